import { createLogger, errorInterceptor, exitOnSignal, failStartup, Metrics, startServer } from "@parley/runtime";
import { startAccount } from "./account.js";
import { loadAccountConfig } from "./config.js";
import { mapAccountError } from "./errors.js";

/** The account service as its own process, serving gRPC (and Connect JSON) on ACCOUNT_PORT. */
async function main(): Promise<void> {
  const config = loadAccountConfig();
  const logger = createLogger("account", config.logLevel);
  const account = await startAccount(config, logger).catch((err: unknown) => failStartup(logger, err));
  const server = await startServer({
    host: config.host,
    port: config.port,
    routes: account.routes,
    serviceNames: account.serviceNames,
    logger,
    metrics: new Metrics(),
    interceptors: [errorInterceptor(mapAccountError, logger)],
    onDrain: account.drain,
  });
  logger.info({ url: server.url }, "account service listening");
  exitOnSignal(
    logger,
    async () => {
      await server.close(config.shutdownGraceMs);
      await account.close();
    },
    config.shutdownGraceMs + 5_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
