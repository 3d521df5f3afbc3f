import { openConfiguredStorage } from "@parley/relational";
import { joinMesh } from "@parley/mesh";
import { createLogger, errorInterceptor, exitOnSignal, failStartup, Metrics, openInternalPlane, startServer } from "@parley/runtime";
import { presenceAccess } from "./access.js";
import { loadPresenceConfig } from "./config.js";
import { mapPresenceError } from "./errors.js";
import { startPresence } from "./presence-service.js";

/** The presence service as its own process. */
async function main(): Promise<void> {
  const config = loadPresenceConfig();
  const logger = createLogger("presence", config.logLevel);
  const storage = await openConfiguredStorage(config.database, config.dataDir, "presence", logger).catch((err: unknown) => failStartup(logger, err));
  const metrics = new Metrics();
  const plane = openInternalPlane(config.plane, "presence", logger, { listenHosts: [config.host] });
  const mesh = await joinMesh(config.registry, logger, (address, service) => plane.transport(address, service)).catch((err: unknown) => failStartup(logger, err));
  const presence = await startPresence(
    { storage, account: mesh.transportTo("account", config.accountAddress), graceMs: config.graceMs, heartbeatTimeoutMs: config.heartbeatTimeoutMs },
    logger,
    metrics,
  );
  const server = await startServer({
    host: config.host,
    port: config.port,
    routes: presence.routes,
    serviceNames: presence.serviceNames,
    logger,
    metrics,
    interceptors: [plane.guard(presenceAccess), errorInterceptor(mapPresenceError, logger)],
    onDrain: presence.drain,
    ...(plane.serverTls ? { tls: plane.serverTls } : {}),
  });
  await mesh.register("presence", config.advertiseAddress ?? new URL(server.url).host).catch((err: unknown) => failStartup(logger, err));
  logger.info({ url: server.url, mesh: mesh.description }, "presence service listening");
  exitOnSignal(
    logger,
    async () => {
      await mesh.close(); // out of the registry first: no new calls come here
      await server.close(config.shutdownGraceMs);
      await presence.close();
      await storage.close();
      plane.close();
    },
    config.shutdownGraceMs + 5_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
