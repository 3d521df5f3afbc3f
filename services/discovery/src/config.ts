import { advertiseAddress, etcdEnv, registrySettings, type RegistrySettings } from "@parley/mesh";
import {
  commonEnv,
  env,
  internalPlaneEnv,
  internalPlaneSettings,
  loadEnv,
  type InternalPlaneSettings,
  type LOG_LEVELS,
  readinessSettings,
  type ReadinessSettings,
} from "@parley/runtime";

export interface DiscoveryConfig {
  readonly host: string;
  readonly port: number;
  /** host:port other processes reach this one at; defaults to host:port of the listening socket. */
  readonly advertiseAddress: string | undefined;
  readonly registry: RegistrySettings;
  /** The retry-after hint PickGateway gives when no gateway is live. */
  readonly retryAfterMs: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly shutdownGraceMs: number;
  /** How often and how patiently /readyz's dependency checks run. */
  readonly readiness: ReadinessSettings;
  /** Service key, trust file and TLS of the internal plane (docs/security.md). */
  readonly plane: InternalPlaneSettings;
}

/** Reads and checks the discovery process's variables; throws ConfigError listing every bad one. */
export function loadDiscoveryConfig(environment: NodeJS.ProcessEnv = process.env): DiscoveryConfig {
  const vars = loadEnv(
    {
      DISCOVERY_HOST: env.string("127.0.0.1"),
      DISCOVERY_PORT: env.port(7007),
      DISCOVERY_ADVERTISE_ADDRESS: advertiseAddress(),
      // About the time a restarting gateway needs to register again.
      DISCOVERY_RETRY_AFTER_MS: env.int(100, 300_000, 5_000),
      ...etcdEnv,
      ...commonEnv,
      ...internalPlaneEnv,
    },
    environment,
  );
  return Object.freeze({
    host: vars.DISCOVERY_HOST,
    port: vars.DISCOVERY_PORT,
    advertiseAddress: vars.DISCOVERY_ADVERTISE_ADDRESS,
    registry: registrySettings(vars),
    retryAfterMs: vars.DISCOVERY_RETRY_AFTER_MS,
    logLevel: vars.LOG_LEVEL,
    shutdownGraceMs: vars.SHUTDOWN_GRACE_MS,
    readiness: readinessSettings(vars),
    plane: internalPlaneSettings(vars),
  });
}
