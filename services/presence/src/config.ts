import { advertiseAddress, etcdEnv, registrySettings, type RegistrySettings } from "@parley/mesh";
import {
  commonEnv,
  databaseEnv,
  databaseSettings,
  env,
  loadEnv,
  internalPlaneEnv,
  internalPlaneSettings,
  type DatabaseSettings,
  type InternalPlaneSettings,
  readinessSettings,
  type ReadinessSettings,
} from "@parley/runtime";

export const presenceEnv = {
  PRESENCE_HOST: env.string("127.0.0.1"),
  PRESENCE_PORT: env.port(7005),
  DATA_DIR: env.string("./data"),
  ...databaseEnv,
  ACCOUNT_ADDRESS: env.address("127.0.0.1:7001"),
  PRESENCE_GRACE_MS: env.int(0, 3_600_000, 30_000),
  PRESENCE_HEARTBEAT_TIMEOUT_MS: env.int(1_000, 600_000, 15_000),
  PRESENCE_ADVERTISE_ADDRESS: advertiseAddress(),
  ...etcdEnv,
  ...commonEnv,
  ...internalPlaneEnv,
};

export interface PresenceConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Postgres when a URL is set (with DATABASE_PASSWORD_FILE's password); the embedded SQLite in dataDir otherwise. */
  database: DatabaseSettings;
  accountAddress: string;
  /** How long after a user's last device goes before they turn offline. */
  graceMs: number;
  /** A session with no heartbeat for this long counts as gone (3 client heartbeat intervals by default). */
  heartbeatTimeoutMs: number;
  /** Where this process registers and finds the others (etcd), or static addresses when ETCD_ENDPOINTS is unset. */
  registry: RegistrySettings;
  /** host:port published in the registry; defaults to the listening address. */
  advertiseAddress: string | undefined;
  logLevel: string;
  shutdownGraceMs: number;
  /** How often and how patiently /readyz's dependency checks run. */
  readiness: ReadinessSettings;
  /** Service key, trust file and TLS of the internal plane (docs/security.md). */
  plane: InternalPlaneSettings;
}

export function loadPresenceConfig(environment: NodeJS.ProcessEnv = process.env): PresenceConfig {
  const v = loadEnv(presenceEnv, environment);
  return Object.freeze({
    host: v.PRESENCE_HOST,
    port: v.PRESENCE_PORT,
    dataDir: v.DATA_DIR,
    database: databaseSettings(v),
    accountAddress: v.ACCOUNT_ADDRESS,
    graceMs: v.PRESENCE_GRACE_MS,
    heartbeatTimeoutMs: v.PRESENCE_HEARTBEAT_TIMEOUT_MS,
    registry: registrySettings(v),
    advertiseAddress: v.PRESENCE_ADVERTISE_ADDRESS,
    logLevel: v.LOG_LEVEL,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    readiness: readinessSettings(v),
    plane: internalPlaneSettings(v),
  });
}
