import { createLogger, errorInterceptor, exitOnSignal, failStartup, Metrics, openInternalPlane, ServingStatus, startServer } from "@parley/runtime";
import { idgenAccess } from "./access.js";
import { systemClock } from "./adapters/system-clock.js";
import { loadIdgenConfig, type IdgenConfig } from "./config.js";
import { mapIdgenError } from "./errors.js";
import { createIdgenService } from "./server.js";
import { SnowflakeGenerator } from "./snowflake.js";
import { openIdentity } from "./worker-ids.js";

// The idgen process: configuration, worker id (fixed or leased), wiring, listen, register, graceful stop.
const config = loadConfigOrFail();
const logger = createLogger("idgen", config.logLevel);
// idgen calls no other service: it needs the trust file, not a key of its own.
const plane = attemptOrFail(() => openInternalPlane(config.plane, "idgen", logger, { listenHosts: [config.host], callsOthers: false }));
const identity = await openIdentity(config, logger).catch((err: unknown) => failStartup(logger, err));
const generator = new SnowflakeGenerator({
  workerId: identity.workerId,
  clock: systemClock,
  maxBackwardMs: config.maxClockBackwardMs,
});
const service = createIdgenService({ generator });

const server = await startServer({
  host: config.host,
  port: config.port,
  routes: service.routes,
  serviceNames: service.serviceNames,
  logger,
  metrics: new Metrics(),
  interceptors: [plane.guard(idgenAccess), errorInterceptor(mapIdgenError, logger)],
  ...(plane.serverTls ? { tls: plane.serverTls } : {}),
}).catch((err: unknown) => failStartup(logger, err));
// While fenced, health says NOT_SERVING, so balancers and clients go to another instance.
identity.onChange((id) => {
  for (const name of service.serviceNames) server.health.set(name, id === undefined ? ServingStatus.NOT_SERVING : ServingStatus.SERVING);
});
await identity.register(config.advertiseAddress ?? new URL(server.url).host).catch((err: unknown) => failStartup(logger, err));

const workerId = typeof identity.workerId === "number" ? identity.workerId : identity.workerId.current();
logger.info({ url: server.url, workerId, instanceId: identity.instanceId }, "idgen listening");
// The extra 2 s lets close() cut stragglers after the grace period before exitOnSignal gives up.
exitOnSignal(
  logger,
  async () => {
    await identity.deregister();
    await server.close(config.shutdownGraceMs);
    // After the last call is answered: freeing the worker id earlier could let
    // another instance take it while this one still issues IDs.
    await identity.close();
    plane.close();
  },
  config.shutdownGraceMs + 2000,
);

function attemptOrFail<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    failStartup(logger, err);
  }
}

function loadConfigOrFail(): IdgenConfig {
  try {
    return loadIdgenConfig();
  } catch (err) {
    failStartup(undefined, err); // ConfigError: no logger yet, so plain words on stderr
  }
}
