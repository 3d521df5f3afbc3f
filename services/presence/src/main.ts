import { join } from "node:path";
import { openConfiguredDb } from "@parley/relational";
import { createLogger, errorInterceptor, exitOnSignal, failStartup, grpcTransport, Metrics, startServer } from "@parley/runtime";
import { loadPresenceConfig } from "./config.js";
import { mapPresenceError } from "./errors.js";
import { startPresence } from "./presence-service.js";

/** The presence service as its own process. */
async function main(): Promise<void> {
  const config = loadPresenceConfig();
  const logger = createLogger("presence", config.logLevel);
  const db = await openConfiguredDb(config.databaseUrl, join(config.dataDir, "pglite-presence"), logger).catch((err: unknown) => failStartup(logger, err));
  const metrics = new Metrics();
  const presence = await startPresence(
    { db, account: grpcTransport(config.accountAddress), graceMs: config.graceMs, heartbeatTimeoutMs: config.heartbeatTimeoutMs },
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
    interceptors: [errorInterceptor(mapPresenceError, logger)],
    onDrain: presence.drain,
  });
  logger.info({ url: server.url }, "presence service listening");
  exitOnSignal(
    logger,
    async () => {
      await server.close(config.shutdownGraceMs);
      await presence.close();
      await db.close();
    },
    config.shutdownGraceMs + 5_000,
  );
}

main().catch((err: unknown) => failStartup(undefined, err));
