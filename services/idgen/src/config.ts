import { advertiseAddress, etcdEnv, registrySettings, type RegistrySettings } from "@parley/mesh";
import {
  commonEnv,
  ConfigError,
  env,
  loadEnv,
  type LOG_LEVELS,
  internalPlaneEnv,
  internalPlaneSettings,
  type InternalPlaneSettings,
  readinessSettings,
  type ReadinessSettings,
} from "@parley/runtime";
import { MAX_WORKER_ID } from "./domain/snowflake.js";

export interface IdgenConfig {
  /**
   * The fixed worker id (IDGEN_WORKER_ID, 0 when unset). Must differ between
   * running instances: two with one worker id can hand out the same ID.
   * Ignored when leaseWorkerId is true.
   */
  readonly workerId: number;
  /** True when IDGEN_WORKER_ID is unset and ETCD_ENDPOINTS is set: the worker id is leased in etcd. */
  readonly leaseWorkerId: boolean;
  /** etcd (or the in-memory registry), lease TTL, start-up retries, zone. */
  readonly registry: RegistrySettings;
  /** host:port published in the registry; defaults to the listening address. */
  readonly advertiseAddress: string | undefined;
  readonly maxClockBackwardMs: number;
  readonly host: string;
  readonly port: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly shutdownGraceMs: number;
  /** How often and how patiently /readyz's dependency checks run. */
  readonly readiness: ReadinessSettings;
  /** Service key, trust file and TLS of the internal plane (docs/security.md). */
  readonly plane: InternalPlaneSettings;
}

/** Reads and checks the idgen process's variables; throws ConfigError listing every bad one. */
export function loadIdgenConfig(environment: NodeJS.ProcessEnv = process.env): IdgenConfig {
  const vars = loadEnv(
    {
      IDGEN_WORKER_ID: env.int(0, MAX_WORKER_ID).optional(),
      // 200 ms covers the usual NTP step without stalling callers noticeably;
      // beyond 10 s a caller is better served by an error and a retry elsewhere.
      IDGEN_MAX_CLOCK_BACKWARD_MS: env.int(0, 10_000, 200),
      IDGEN_HOST: env.string("127.0.0.1"),
      IDGEN_PORT: env.port(7002),
      IDGEN_ADVERTISE_ADDRESS: advertiseAddress(),
      ...etcdEnv,
      ...commonEnv,
      ...internalPlaneEnv,
    },
    environment,
  );
  const registry = registrySettings(vars);
  if (vars.IDGEN_WORKER_ID !== undefined && registry.etcd !== undefined) {
    // A fixed id beside leased ones could be leased to another instance too.
    throw new ConfigError([
      "IDGEN_WORKER_ID: must not be set together with ETCD_ENDPOINTS: with etcd every instance leases its worker id, " +
        "so that no two share one; unset IDGEN_WORKER_ID",
    ]);
  }
  return Object.freeze({
    workerId: vars.IDGEN_WORKER_ID ?? 0,
    leaseWorkerId: registry.etcd !== undefined,
    registry,
    advertiseAddress: vars.IDGEN_ADVERTISE_ADDRESS,
    maxClockBackwardMs: vars.IDGEN_MAX_CLOCK_BACKWARD_MS,
    host: vars.IDGEN_HOST,
    port: vars.IDGEN_PORT,
    logLevel: vars.LOG_LEVEL,
    shutdownGraceMs: vars.SHUTDOWN_GRACE_MS,
    readiness: readinessSettings(vars),
    plane: internalPlaneSettings(vars),
  });
}
