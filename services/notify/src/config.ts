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

export const notifyEnv = {
  NOTIFY_HOST: env.string("127.0.0.1"),
  NOTIFY_PORT: env.port(7006),
  DATA_DIR: env.string("./data"),
  ...databaseEnv,
  ACCOUNT_ADDRESS: env.address("127.0.0.1:7001"),
  NOTIFY_MAX_ATTEMPTS: env.int(1, 100, 8),
  NOTIFY_RETRY_BASE_MS: env.int(10, 3_600_000, 2_000),
  NOTIFY_RETRY_MAX_MS: env.int(10, 86_400_000, 600_000),
  NOTIFY_LEASE_MS: env.int(1_000, 3_600_000, 60_000),
  NOTIFY_POLL_MS: env.int(10, 60_000, 1_000),
  NOTIFY_CONCURRENCY: env.int(1, 1_000, 32),
  NOTIFY_RATE_LIMIT: env.int(0, 100_000, 20),
  NOTIFY_RATE_WINDOW_MS: env.int(1_000, 86_400_000, 60_000),
  NOTIFY_TARGETS_CACHE_MS: env.int(0, 3_600_000, 30_000),
  NOTIFY_RECORDING: env.bool(false),
  FCM_SERVICE_ACCOUNT_JSON: env.secret(env.optionalString()),
  APNS_URL: env.string("https://api.push.apple.com"),
  APNS_TEAM_ID: env.optionalString(),
  APNS_KEY_ID: env.optionalString(),
  APNS_PRIVATE_KEY: env.secret(env.optionalString()),
  APNS_TOPIC: env.optionalString(),
  WEBPUSH_VAPID_SUBJECT: env.optionalString(),
  WEBPUSH_VAPID_PUBLIC_KEY: env.optionalString(),
  WEBPUSH_VAPID_PRIVATE_KEY: env.secret(env.optionalString()),
  SMTP_URL: env.secret(env.optionalString()),
  EMAIL_FROM: env.optionalString(),
  SMS_API_URL: env.optionalString(),
  SMS_API_TOKEN: env.secret(env.optionalString()),
  NOTIFY_ADVERTISE_ADDRESS: advertiseAddress(),
  ...etcdEnv,
  ...commonEnv,
  ...internalPlaneEnv,
};

export type NotifyEnv = ReturnType<typeof loadEnv<typeof notifyEnv>>;

export interface NotifyConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Postgres when a URL is set (with DATABASE_PASSWORD_FILE's password); the embedded SQLite in dataDir otherwise. */
  database: DatabaseSettings;
  accountAddress: string;
  /** Attempts per delivery before it is dead-lettered. */
  maxAttempts: number;
  /** Backoff before retry n is about base * 2^(n-1), halved to full at random, capped at max. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a worker holds a job; a crashed worker's jobs come back after it. Must outlast a provider call. */
  leaseMs: number;
  /** How often idle workers look for due jobs (they are also woken at once by a local Send). */
  pollMs: number;
  /** Sends in flight per channel. */
  concurrency: number;
  /** At most this many notifications per user per window are sent (0: no limit). */
  rateLimit: number;
  rateWindowMs: number;
  /** How long a user's targets and settings are cached (changes announced by account drop them sooner). */
  targetsCacheMs: number;
  /** Channels with no provider configured use the recording provider instead of being skipped. */
  recording: boolean;
  /** The raw provider variables; providers.ts checks them per channel. */
  providers: NotifyEnv;
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

export function loadNotifyConfig(environment: NodeJS.ProcessEnv = process.env): NotifyConfig {
  const v = loadEnv(notifyEnv, environment);
  return Object.freeze({
    host: v.NOTIFY_HOST,
    port: v.NOTIFY_PORT,
    dataDir: v.DATA_DIR,
    database: databaseSettings(v),
    accountAddress: v.ACCOUNT_ADDRESS,
    maxAttempts: v.NOTIFY_MAX_ATTEMPTS,
    retryBaseMs: v.NOTIFY_RETRY_BASE_MS,
    retryMaxMs: Math.max(v.NOTIFY_RETRY_MAX_MS, v.NOTIFY_RETRY_BASE_MS),
    leaseMs: v.NOTIFY_LEASE_MS,
    pollMs: v.NOTIFY_POLL_MS,
    concurrency: v.NOTIFY_CONCURRENCY,
    rateLimit: v.NOTIFY_RATE_LIMIT,
    rateWindowMs: v.NOTIFY_RATE_WINDOW_MS,
    targetsCacheMs: v.NOTIFY_TARGETS_CACHE_MS,
    recording: v.NOTIFY_RECORDING,
    providers: v,
    registry: registrySettings(v),
    advertiseAddress: v.NOTIFY_ADVERTISE_ADDRESS,
    logLevel: v.LOG_LEVEL,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    readiness: readinessSettings(v),
    plane: internalPlaneSettings(v),
  });
}
