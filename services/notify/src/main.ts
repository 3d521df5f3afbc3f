import { openConfiguredStorage } from "@parley/relational";
import { createLogger, errorInterceptor, exitOnSignal, failStartup, Metrics, openInternalPlane, startServer } from "@parley/runtime";
import { notifyAccess } from "./access.js";
import { joinMesh } from "@parley/mesh";
import { loadNotifyConfig } from "./config.js";
import { mapNotifyError } from "./errors.js";
import { startNotify } from "./notify-service.js";
import { configuredProviders } from "./providers/configured.js";

/** The notify service as its own process: gRPC on NOTIFY_PORT, account over gRPC, providers from the environment. */
async function main(): Promise<void> {
  const config = loadNotifyConfig();
  const logger = createLogger("notify", config.logLevel);
  const providers = configuredProviders(config.providers, config.recording, logger);
  const storage = await openConfiguredStorage(config.database, config.dataDir, "notify", logger).catch((err: unknown) => failStartup(logger, err));
  const metrics = new Metrics();
  const plane = openInternalPlane(config.plane, "notify", logger, { listenHosts: [config.host] });
  const mesh = await joinMesh(config.registry, logger, (address, service) => plane.transport(address, service)).catch((err: unknown) => failStartup(logger, err));
  const notify = await startNotify({ storage, account: mesh.transportTo("account", config.accountAddress), providers, config }, logger, metrics).catch((err: unknown) =>
    failStartup(logger, err),
  );
  const server = await startServer({
    host: config.host,
    port: config.port,
    routes: notify.routes,
    serviceNames: notify.serviceNames,
    logger,
    metrics,
    interceptors: [plane.guard(notifyAccess), errorInterceptor(mapNotifyError, logger)],
    ...(plane.serverTls ? { tls: plane.serverTls } : {}),
  });
  await mesh.register("notify", config.advertiseAddress ?? new URL(server.url).host).catch((err: unknown) => failStartup(logger, err));
  logger.info({ url: server.url, channels: [...providers.keys()], mesh: mesh.description }, "notify service listening");
  exitOnSignal(
    logger,
    async () => {
      await mesh.close(); // out of the registry first: no new calls come here
      await server.close(config.shutdownGraceMs);
      await notify.close(config.shutdownGraceMs);
      await storage.close();
      plane.close();
    },
    config.shutdownGraceMs + 5_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
