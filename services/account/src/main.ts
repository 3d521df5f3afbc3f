import { joinMesh } from "@parley/mesh";
import { createLogger, errorInterceptor, exitOnSignal, failStartup, Metrics, openInternalPlane, startServer } from "@parley/runtime";
import { accountAccess } from "./access.js";
import { startAccount } from "./account.js";
import { loadAccountConfig } from "./config.js";
import { mapAccountError } from "./errors.js";

/** The account service as its own process, serving gRPC (and Connect JSON) on ACCOUNT_PORT. */
async function main(): Promise<void> {
  const config = loadAccountConfig();
  const logger = createLogger("account", config.logLevel);
  const plane = openInternalPlane(config.plane, "account", logger, { listenHosts: [config.host] });
  const mesh = await joinMesh(config.registry, logger, (address, service) => plane.transport(address, service)).catch((err: unknown) => failStartup(logger, err));
  const account = await startAccount(config, logger).catch((err: unknown) => failStartup(logger, err));
  const server = await startServer({
    host: config.host,
    port: config.port,
    routes: account.routes,
    serviceNames: account.serviceNames,
    logger,
    metrics: new Metrics(),
    interceptors: [plane.guard(accountAccess), errorInterceptor(mapAccountError, logger)],
    onDrain: account.drain,
    ...(plane.serverTls ? { tls: plane.serverTls } : {}),
  });
  await mesh.register("account", config.advertiseAddress ?? new URL(server.url).host).catch((err: unknown) => failStartup(logger, err));
  logger.info({ url: server.url, mesh: mesh.description }, "account service listening");
  exitOnSignal(
    logger,
    async () => {
      await mesh.close(); // out of the registry first: no new calls come here
      await server.close(config.shutdownGraceMs);
      await account.close();
      plane.close();
    },
    config.shutdownGraceMs + 5_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
