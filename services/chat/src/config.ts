import { commonEnv, env, loadEnv } from "@parley/runtime";

export const chatEnv = {
  CHAT_HOST: env.string("127.0.0.1"),
  CHAT_PORT: env.port(7003),
  DATA_DIR: env.string("./data"),
  DATABASE_URL: env.postgresUrl(),
  ACCOUNT_ADDRESS: env.address("127.0.0.1:7001"),
  IDGEN_ADDRESS: env.address("127.0.0.1:7002"),
  PRESENCE_ADDRESS: env.address("127.0.0.1:7005"),
  CHAT_MAX_GROUP_MEMBERS: env.int(2, 10_000, 100),
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
  logLevel: string;
  shutdownGraceMs: number;
}

export function loadChatConfig(environment: NodeJS.ProcessEnv = process.env): ChatConfig {
  const v = loadEnv(chatEnv, environment);
  return Object.freeze({
    host: v.CHAT_HOST,
    port: v.CHAT_PORT,
    dataDir: v.DATA_DIR,
    databaseUrl: v.DATABASE_URL,
    accountAddress: v.ACCOUNT_ADDRESS,
    idgenAddress: v.IDGEN_ADDRESS,
    presenceAddress: v.PRESENCE_ADDRESS,
    maxGroupMembers: v.CHAT_MAX_GROUP_MEMBERS,
    logLevel: v.LOG_LEVEL,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
  });
}
