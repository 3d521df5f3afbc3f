export { commonEnv, ConfigError, env, loadEnv, LOG_LEVELS, type EnvSchema, type EnvValues } from "./config.js";
export { createLogger, type Logger } from "./logger.js";
export { Metrics } from "./metrics.js";
export { HealthStatus, healthService, ServingStatus } from "./health.js";
export { startServer, type RunningServer, type ServerOptions } from "./server.js";
export { errorInterceptor, type ErrorMapper } from "./errors.js";
export { exitOnSignal, failStartup } from "./shutdown.js";
export { grpcTransport } from "./transport.js";
export { AsyncQueue, TickBatcher } from "./async-queue.js";
