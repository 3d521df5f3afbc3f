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
import { deliveryBusEnv, deliveryBusSettings, type DeliveryBusSettings } from "./delivery-bus-config.js";
import { messageStoreEnv, messageStoreSettings, type MessageStoreSettings } from "./message-store-config.js";

export const chatEnv = {
  CHAT_HOST: env.string("127.0.0.1"),
  CHAT_PORT: env.port(7003),
  DATA_DIR: env.string("./data"),
  ...databaseEnv,
  ACCOUNT_ADDRESS: env.address("127.0.0.1:7001"),
  IDGEN_ADDRESS: env.address("127.0.0.1:7002"),
  PRESENCE_ADDRESS: env.address("127.0.0.1:7005"),
  CHAT_MAX_GROUP_MEMBERS: env.int(2, 10_000, 100),
  CHAT_EDIT_WINDOW_SECONDS: env.int(0, 31_536_000, 900),
  CHAT_DELETE_WINDOW_SECONDS: env.int(0, 31_536_000, 0),
  NOTIFY_ADDRESS: env.address("127.0.0.1:7006"),
  CHAT_PUSH_ENABLED: env.bool(true),
  CHAT_ADVERTISE_ADDRESS: advertiseAddress(),
  ...deliveryBusEnv,
  ...messageStoreEnv,
  ...etcdEnv,
  ...commonEnv,
  ...internalPlaneEnv,
};

export interface ChatConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Postgres when a URL is set (with DATABASE_PASSWORD_FILE's password); the embedded SQLite in dataDir otherwise. */
  database: DatabaseSettings;
  accountAddress: string;
  idgenAddress: string;
  presenceAddress: string;
  /** The group member cap, the owner included. */
  maxGroupMembers: number;
  /** How long after sending a user may edit a message, in seconds (0: no limit). */
  editWindowSeconds: number;
  /** How long after sending a user may delete a message for everyone, in seconds (0: no limit); deleting for oneself has none. */
  deleteWindowSeconds: number;
  /** Where notify listens, for pushes to recipients with no connected device. */
  notifyAddress: string;
  /** Whether recipients with no connected device get a push through notify (off: chat says so at start). */
  pushEnabled: boolean;
  /** Where this process registers and finds the others (etcd), or static addresses when ETCD_ENDPOINTS is unset. */
  registry: RegistrySettings;
  /** host:port published in the registry; defaults to the listening address. */
  advertiseAddress: string | undefined;
  /** The in-process bus (this process only) or Kafka (chat in several processes). */
  deliveryBus: DeliveryBusSettings;
  /** SQL (Postgres or the embedded SQLite, by `database`) or Cassandra (then `database` is not used by chat). */
  messageStore: MessageStoreSettings;
  logLevel: string;
  shutdownGraceMs: number;
  /** How often and how patiently /readyz's dependency checks run. */
  readiness: ReadinessSettings;
  /** Service key, trust file and TLS of the internal plane (docs/security.md). */
  plane: InternalPlaneSettings;
}

export function loadChatConfig(environment: NodeJS.ProcessEnv = process.env): ChatConfig {
  const v = loadEnv(chatEnv, environment);
  return Object.freeze({
    host: v.CHAT_HOST,
    port: v.CHAT_PORT,
    dataDir: v.DATA_DIR,
    database: databaseSettings(v),
    accountAddress: v.ACCOUNT_ADDRESS,
    idgenAddress: v.IDGEN_ADDRESS,
    presenceAddress: v.PRESENCE_ADDRESS,
    maxGroupMembers: v.CHAT_MAX_GROUP_MEMBERS,
    editWindowSeconds: v.CHAT_EDIT_WINDOW_SECONDS,
    deleteWindowSeconds: v.CHAT_DELETE_WINDOW_SECONDS,
    notifyAddress: v.NOTIFY_ADDRESS,
    pushEnabled: v.CHAT_PUSH_ENABLED,
    registry: registrySettings(v),
    advertiseAddress: v.CHAT_ADVERTISE_ADDRESS,
    deliveryBus: deliveryBusSettings(v),
    messageStore: messageStoreSettings(v),
    logLevel: v.LOG_LEVEL,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    readiness: readinessSettings(v),
    plane: internalPlaneSettings(v),
  });
}
