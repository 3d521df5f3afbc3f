import type { ConnectRouter } from "@connectrpc/connect";
import type { AccessPolicy } from "./auth/access-policy.js";
import type { InternalPlane } from "./auth/internal-plane.js";
import { errorInterceptor, type ErrorMapper } from "./errors.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import type { ReadinessChecks } from "./readiness.js";
import { startServer, type RunningServer } from "./server.js";

/** A service's handlers, as every composition root returns them. */
export interface ServedService {
  routes: (router: ConnectRouter) => void;
  serviceNames: string[];
  /** Ends long-lived streams when a graceful close starts. */
  drain?: () => void;
}

export interface PlaneServerOptions {
  host: string;
  port: number;
  service: ServedService;
  /** Who may call which method. */
  access: AccessPolicy;
  /** The service's domain errors to gRPC statuses. */
  mapError: ErrorMapper;
  logger: Logger;
  metrics: Metrics;
  /** The process's dependency checks, behind /readyz and the health service's "" status. */
  readiness?: ReadinessChecks;
}

/**
 * A service's server on the internal plane, the same in every process: the
 * access guard first (authentication, authorization, acting user), then the
 * error mapping, TLS whenever the plane has it, and server reflection for
 * operators.
 */
export function startPlaneServer(plane: InternalPlane, options: PlaneServerOptions): Promise<RunningServer> {
  const { service, logger } = options;
  return startServer({
    host: options.host,
    port: options.port,
    routes: service.routes,
    serviceNames: service.serviceNames,
    logger,
    metrics: options.metrics,
    reflection: true,
    ...(options.readiness ? { readiness: options.readiness } : {}),
    interceptors: [plane.guard(options.access), errorInterceptor(options.mapError, logger)],
    ...(service.drain ? { onDrain: service.drain } : {}),
    ...(plane.serverTls ? { tls: plane.serverTls } : {}),
  });
}
