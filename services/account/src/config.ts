import { advertiseAddress, etcdEnv, registrySettings, type RegistrySettings } from "@parley/mesh";
import {
  commonEnv,
  ConfigError,
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
import type { AuthLimitSettings } from "./domain/limits/auth-limits.js";

export const accountEnv = {
  ACCOUNT_HOST: env.string("127.0.0.1"),
  ACCOUNT_PORT: env.port(7001),
  DATA_DIR: env.string("./data"),
  ...databaseEnv,
  ACCOUNT_TOKEN_SECRET: env.secret(env.optionalString()),
  ACCESS_TOKEN_TTL_SECONDS: env.int(1, 86_400, 3_600),
  REFRESH_TOKEN_TTL_SECONDS: env.int(3_600, 31_536_000, 2_592_000),
  REFRESH_TOKEN_REUSE_HISTORY: env.int(1, 100, 10),
  ACCOUNT_SCRYPT_LOG_N: env.int(10, 20, 15),
  // Brute-force limits (src/limits/auth-limits.ts has the policy and why).
  ACCOUNT_LOGIN_FREE_FAILURES: env.int(1, 1_000, 5),
  ACCOUNT_LOGIN_FREE_FAILURES_PER_USER: env.int(1, 100_000, 20),
  ACCOUNT_LOGIN_FREE_FAILURES_PER_ADDRESS: env.int(1, 1_000_000, 100),
  ACCOUNT_REFRESH_FREE_FAILURES_PER_ADDRESS: env.int(1, 1_000_000, 20),
  ACCOUNT_LOCKOUT_BASE_SECONDS: env.int(1, 3_600, 10),
  ACCOUNT_LOCKOUT_MAX_SECONDS: env.int(1, 86_400, 900),
  ACCOUNT_USER_LOCKOUT_MAX_SECONDS: env.int(1, 3_600, 300),
  ACCOUNT_FAILURE_WINDOW_SECONDS: env.int(60, 2_592_000, 86_400),
  ACCOUNT_KNOWN_ADDRESS_SECONDS: env.int(3_600, 31_536_000, 2_592_000),
  ACCOUNT_SIGNUPS_PER_ADDRESS: env.int(0, 1_000_000, 20),
  ACCOUNT_MAX_DEVICES: env.int(1, 1_000, 10),
  ACCOUNT_ADVERTISE_ADDRESS: advertiseAddress(),
  ...etcdEnv,
  ...commonEnv,
  ...internalPlaneEnv,
};

export interface AccountConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Postgres when a URL is set (with DATABASE_PASSWORD_FILE's password); the embedded SQLite in dataDir otherwise. */
  database: DatabaseSettings;
  /** base64url, at least 32 bytes; generated into dataDir when unset. */
  tokenSecret: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Used refresh-token hashes kept per session to recognise a replayed token (Accounts.refresh says why bounded). */
  refreshTokenReuseHistory: number;
  scryptLogN: number;
  /** Brute-force limits on LogIn, ChangePassword, SignUp and RefreshSession. */
  limits: AuthLimitSettings;
  /** Devices of one account logged in at once; a log-in beyond it logs out the least recently used one. */
  maxDevices: number;
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

export function loadAccountConfig(environment: NodeJS.ProcessEnv = process.env): AccountConfig {
  const v = loadEnv(accountEnv, environment);
  if (v.ACCOUNT_LOCKOUT_BASE_SECONDS > Math.min(v.ACCOUNT_LOCKOUT_MAX_SECONDS, v.ACCOUNT_USER_LOCKOUT_MAX_SECONDS)) {
    throw new ConfigError([
      `ACCOUNT_LOCKOUT_BASE_SECONDS: must be at most ACCOUNT_LOCKOUT_MAX_SECONDS and ACCOUNT_USER_LOCKOUT_MAX_SECONDS (got ${v.ACCOUNT_LOCKOUT_BASE_SECONDS}, ${v.ACCOUNT_LOCKOUT_MAX_SECONDS} and ${v.ACCOUNT_USER_LOCKOUT_MAX_SECONDS})`,
    ]);
  }
  return Object.freeze({
    host: v.ACCOUNT_HOST,
    port: v.ACCOUNT_PORT,
    dataDir: v.DATA_DIR,
    database: databaseSettings(v),
    tokenSecret: v.ACCOUNT_TOKEN_SECRET,
    accessTokenTtlSeconds: v.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: v.REFRESH_TOKEN_TTL_SECONDS,
    refreshTokenReuseHistory: v.REFRESH_TOKEN_REUSE_HISTORY,
    scryptLogN: v.ACCOUNT_SCRYPT_LOG_N,
    limits: Object.freeze({
      freeFailuresPerClient: v.ACCOUNT_LOGIN_FREE_FAILURES,
      freeFailuresPerUser: v.ACCOUNT_LOGIN_FREE_FAILURES_PER_USER,
      freeFailuresPerAddress: v.ACCOUNT_LOGIN_FREE_FAILURES_PER_ADDRESS,
      freeRefreshFailuresPerAddress: v.ACCOUNT_REFRESH_FREE_FAILURES_PER_ADDRESS,
      lockoutBaseSeconds: v.ACCOUNT_LOCKOUT_BASE_SECONDS,
      lockoutMaxSeconds: v.ACCOUNT_LOCKOUT_MAX_SECONDS,
      userLockoutMaxSeconds: v.ACCOUNT_USER_LOCKOUT_MAX_SECONDS,
      failureWindowSeconds: v.ACCOUNT_FAILURE_WINDOW_SECONDS,
      knownAddressSeconds: v.ACCOUNT_KNOWN_ADDRESS_SECONDS,
      signUpsPerAddressPerHour: v.ACCOUNT_SIGNUPS_PER_ADDRESS,
    }),
    maxDevices: v.ACCOUNT_MAX_DEVICES,
    registry: registrySettings(v),
    advertiseAddress: v.ACCOUNT_ADVERTISE_ADDRESS,
    logLevel: v.LOG_LEVEL,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    readiness: readinessSettings(v),
    plane: internalPlaneSettings(v),
  });
}
