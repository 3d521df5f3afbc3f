import { joinMesh } from "@parley/discovery";
import { createLogger, errorInterceptor, exitOnSignal, failStartup, Metrics, startServer } from "@parley/runtime";
import { startAccount } from "./account.js";
import { loadAccountConfig } from "./config.js";
import { mapAccountError } from "./errors.js";

/** The account service as its own process, serving gRPC (and Connect JSON) on ACCOUNT_PORT. */
async function main(): Promise<void> {
  const config = loadAccountConfig();
  const logger = createLogger("account", config.logLevel);
  const mesh = await joinMesh(config.registry, logger).catch((err: unknown) => failStartup(logger, err));
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
  await mesh.register("account", config.advertiseAddress ?? new URL(server.url).host).catch((err: unknown) => failStartup(logger, err));
  logger.info({ url: server.url, mesh: mesh.description }, "account service listening");
  exitOnSignal(
    logger,
    async () => {
      await mesh.close(); // out of the registry first: no new calls come here
      await server.close(config.shutdownGraceMs);
      await account.close();
    },
    config.shutdownGraceMs + 5_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
