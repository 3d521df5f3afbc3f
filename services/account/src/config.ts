import { advertiseAddress, etcdEnv, registrySettings, type RegistrySettings } from "@parley/discovery";
import { commonEnv, env, loadEnv } from "@parley/runtime";

export const accountEnv = {
  ACCOUNT_HOST: env.string("127.0.0.1"),
  ACCOUNT_PORT: env.port(7001),
  DATA_DIR: env.string("./data"),
  DATABASE_URL: env.postgresUrl(),
  ACCOUNT_TOKEN_SECRET: env.optionalString(),
  ACCESS_TOKEN_TTL_SECONDS: env.int(1, 86_400, 3_600),
  REFRESH_TOKEN_TTL_SECONDS: env.int(3_600, 31_536_000, 2_592_000),
  ACCOUNT_SCRYPT_LOG_N: env.int(10, 20, 15),
  ACCOUNT_MAX_DEVICES: env.int(1, 1_000, 10),
  ACCOUNT_ADVERTISE_ADDRESS: advertiseAddress(),
  ...etcdEnv,
  ...commonEnv,
};

export interface AccountConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Postgres when set; PGlite in dataDir otherwise. */
  databaseUrl: string | undefined;
  /** base64url, at least 32 bytes; generated into dataDir when unset. */
  tokenSecret: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  scryptLogN: number;
  /** Devices of one account logged in at once; a log-in beyond it logs out the least recently used one. */
  maxDevices: number;
  /** Where this process registers and finds the others (etcd), or static addresses when ETCD_ENDPOINTS is unset. */
  registry: RegistrySettings;
  /** host:port published in the registry; defaults to the listening address. */
  advertiseAddress: string | undefined;
  logLevel: string;
  shutdownGraceMs: number;
}

export function loadAccountConfig(environment: NodeJS.ProcessEnv = process.env): AccountConfig {
  const v = loadEnv(accountEnv, environment);
  return Object.freeze({
    host: v.ACCOUNT_HOST,
    port: v.ACCOUNT_PORT,
    dataDir: v.DATA_DIR,
    databaseUrl: v.DATABASE_URL,
    tokenSecret: v.ACCOUNT_TOKEN_SECRET,
    accessTokenTtlSeconds: v.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: v.REFRESH_TOKEN_TTL_SECONDS,
    scryptLogN: v.ACCOUNT_SCRYPT_LOG_N,
    maxDevices: v.ACCOUNT_MAX_DEVICES,
    registry: registrySettings(v),
    advertiseAddress: v.ACCOUNT_ADVERTISE_ADDRESS,
    logLevel: v.LOG_LEVEL,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
  });
}
