import { createLogger, errorInterceptor, exitOnSignal, failStartup, Metrics, startServer } from "@parley/runtime";
import { systemClock } from "./adapters/system-clock.js";
import { loadIdgenConfig, type IdgenConfig } from "./config.js";
import { mapIdgenError } from "./errors.js";
import { createIdgenService } from "./server.js";
import { SnowflakeGenerator } from "./snowflake.js";

// The idgen process: configuration, wiring, listen, graceful stop.
const config = loadConfigOrFail();
const logger = createLogger("idgen", config.logLevel);
const generator = new SnowflakeGenerator({
  workerId: config.workerId,
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
  interceptors: [errorInterceptor(mapIdgenError, logger)],
}).catch((err: unknown) => failStartup(logger, err));

logger.info({ url: server.url, workerId: config.workerId }, "idgen listening");
// The extra 2 s lets close() cut stragglers after the grace period before exitOnSignal gives up.
exitOnSignal(logger, () => server.close(config.shutdownGraceMs), config.shutdownGraceMs + 2000);

function loadConfigOrFail(): IdgenConfig {
  try {
    return loadIdgenConfig();
  } catch (err) {
    failStartup(undefined, err); // ConfigError: no logger yet, so plain words on stderr
  }
}
