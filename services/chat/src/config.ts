import { advertiseAddress, etcdEnv, registrySettings, type RegistrySettings } from "@parley/discovery";
import { commonEnv, ConfigError, env, loadEnv } from "@parley/runtime";

export const chatEnv = {
  CHAT_HOST: env.string("127.0.0.1"),
  CHAT_PORT: env.port(7003),
  DATA_DIR: env.string("./data"),
  DATABASE_URL: env.postgresUrl(),
  ACCOUNT_ADDRESS: env.address("127.0.0.1:7001"),
  IDGEN_ADDRESS: env.address("127.0.0.1:7002"),
  PRESENCE_ADDRESS: env.address("127.0.0.1:7005"),
  CHAT_MAX_GROUP_MEMBERS: env.int(2, 10_000, 100),
  NOTIFY_ADDRESS: env.address("127.0.0.1:7006"),
  NOTIFY_APP_KEY: env.string("chat"),
  NOTIFY_APP_SECRET: env.optionalString(),
  CHAT_ADVERTISE_ADDRESS: advertiseAddress(),
  ...etcdEnv,
  ...commonEnv,
};

export interface ChatConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Postgres when set; PGlite in dataDir otherwise. */
  databaseUrl: string | undefined;
  accountAddress: string;
  idgenAddress: string;
  presenceAddress: string;
  /** The group member cap, the owner included. */
  maxGroupMembers: number;
  /** Where notify listens, for pushes to recipients with no connected device. */
  notifyAddress: string;
  /** Chat's app key at notify (one of notify's NOTIFY_CALLERS). */
  notifyAppKey: string;
  /** The key's secret; unset turns pushes off (chat still runs, and says so at start). */
  notifyAppSecret: string | undefined;
  /** Where this process registers and finds the others (etcd), or static addresses when ETCD_ENDPOINTS is unset. */
  registry: RegistrySettings;
  /** host:port published in the registry; defaults to the listening address. */
  advertiseAddress: string | undefined;
  logLevel: string;
  shutdownGraceMs: number;
}

export function loadChatConfig(environment: NodeJS.ProcessEnv = process.env): ChatConfig {
  const v = loadEnv(chatEnv, environment);
  // HTTP Basic puts a colon between key and secret: one in the key would move the split.
  if (v.NOTIFY_APP_KEY.includes(":")) throw new ConfigError([`NOTIFY_APP_KEY: must not contain ":" (got "${v.NOTIFY_APP_KEY}")`]);
  return Object.freeze({
    host: v.CHAT_HOST,
    port: v.CHAT_PORT,
    dataDir: v.DATA_DIR,
    databaseUrl: v.DATABASE_URL,
    accountAddress: v.ACCOUNT_ADDRESS,
    idgenAddress: v.IDGEN_ADDRESS,
    presenceAddress: v.PRESENCE_ADDRESS,
    maxGroupMembers: v.CHAT_MAX_GROUP_MEMBERS,
    notifyAddress: v.NOTIFY_ADDRESS,
    notifyAppKey: v.NOTIFY_APP_KEY,
    notifyAppSecret: v.NOTIFY_APP_SECRET,
    registry: registrySettings(v),
    advertiseAddress: v.CHAT_ADVERTISE_ADDRESS,
    logLevel: v.LOG_LEVEL,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
  });
}
