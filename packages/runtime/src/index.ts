export { commonEnv, ConfigError, env, loadEnv, LOG_LEVELS, redactUrlCredentials, type EnvSchema, type EnvValues } from "./config.js";
export { createLogger, type Logger } from "./logger.js";
export {
  codeLabel,
  DATABASE_ERROR_KINDS,
  DATABASE_OPERATIONS,
  databaseErrorKind,
  ETCD_OPERATIONS,
  LATENCY_BUCKETS,
  Metrics,
  type DatabaseErrorKind,
  type DatabaseOperation,
  type EtcdOperation,
} from "./metrics.js";
export { CellCounter, CellHistogram, CounterCell, HistogramCell, type FamilyOptions } from "./metric-cells.js";
export { HealthStatus, healthService, ServingStatus } from "./health.js";
export { ReadinessChecks, readinessSettings, upstreamProbe, type ReadinessProbe, type ReadinessSettings } from "./readiness.js";
export { reflectionService } from "./reflection.js";
export { startServer, type NodeServerRequest, type NodeServerResponse, type RunningServer, type ServerOptions } from "./server.js";
export { startPlaneServer, type PlaneServerOptions, type ServedService } from "./plane-server.js";
export { errorInterceptor, errorInterceptorByService, ErrorTranslator, type ErrorMapper, type ServiceErrors } from "./errors.js";
export { dependencyFailure, DependencyUnavailable, isOutage, unavailable } from "./outage.js";
export { firstFieldProblem, MAX_ID, withFieldChecks, type FieldProblem } from "./field-rules.js";
export { exitOnSignal, failStartup } from "./shutdown.js";
export { runService, SHUTDOWN_MARGIN_MS, type ServiceDefinition, type StartedService } from "./run-service.js";
export { grpcTransport } from "./transport.js";
export { AsyncQueue, TickBatcher } from "./async-queue.js";
export { TurnBatch } from "./turn-batch.js";
export { backoffDelayMs, JitteredBackoff, retryWithBackoff, type BackoffOptions, type RetryOptions } from "./backoff.js";
export { countCodePoints, cutToCodePoints } from "./code-points.js";
export * from "./auth/index.js";
export { ClientTls, isLoopbackHost, ServerTls } from "./tls.js";
export { WatchedFile } from "./watched-file.js";
export { secretFromFile } from "./secret-file.js";
export { databaseEnv, databaseSettings, type DatabaseSettings } from "./database.js";
export { PacedBatcher, type PacedBatch } from "./paced-batcher.js";
export { InFlight } from "./in-flight.js";
export {
  activeContext,
  contextOf,
  endSpan,
  SpanKind,
  startSpan,
  startTracing,
  traceparentOf,
  tracingEnv,
  tracingOn,
  tracingSettings,
  withRequestId,
  requestIdFrom,
  tracingClientInterceptor,
  tracingServerInterceptor,
  withContext,
  withSpan,
  type Context,
  type Span,
  type TracingSettings,
} from "./tracing.js";
