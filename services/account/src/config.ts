import { advertiseAddress, etcdEnv, registrySettings, type RegistrySettings } from "@parley/discovery";
import { commonEnv, databaseEnv, databaseSettings, env, loadEnv, internalPlaneEnv, internalPlaneSettings, type DatabaseSettings, type InternalPlaneSettings } from "@parley/runtime";

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
  ACCOUNT_ADVERTISE_ADDRESS: advertiseAddress(),
  ...etcdEnv,
  ...commonEnv,
  ...internalPlaneEnv,
};

export interface AccountConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Postgres when a URL is set (with DATABASE_PASSWORD_FILE's password); PGlite in dataDir otherwise. */
  database: DatabaseSettings;
  /** base64url, at least 32 bytes; generated into dataDir when unset. */
  tokenSecret: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Used refresh-token hashes kept per session to recognise a replayed token (Accounts.refresh says why bounded). */
  refreshTokenReuseHistory: number;
  scryptLogN: number;
  /** Where this process registers and finds the others (etcd), or static addresses when ETCD_ENDPOINTS is unset. */
  registry: RegistrySettings;
  /** host:port published in the registry; defaults to the listening address. */
  advertiseAddress: string | undefined;
  logLevel: string;
  shutdownGraceMs: number;
  /** Service key, trust file and TLS of the internal plane (docs/security.md). */
  plane: InternalPlaneSettings;
}

export function loadAccountConfig(environment: NodeJS.ProcessEnv = process.env): AccountConfig {
  const v = loadEnv(accountEnv, environment);
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
    registry: registrySettings(v),
    advertiseAddress: v.ACCOUNT_ADVERTISE_ADDRESS,
    logLevel: v.LOG_LEVEL,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    plane: internalPlaneSettings(v),
  });
}
