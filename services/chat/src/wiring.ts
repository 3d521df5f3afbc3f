import type { ConnectRouter, Transport } from "@connectrpc/connect";
import type { GatewayHello } from "@parley/contracts/parley/chat/v1/chat";
import { joinMesh, type InstanceSource } from "@parley/mesh";
import { migrate, openConfiguredStorage, type Storage } from "@parley/relational";
import { Metrics, openInternalPlane, ReadinessChecks, startPlaneServer, type Logger, type ServiceDefinition } from "@parley/runtime";
import { chatAccess } from "./access.js";
import { AccountDisplayNames } from "./adapters/account-names.js";
import { AccountBlockDirectory } from "./adapters/account-blocks.js";
import { AccountUserDirectory } from "./adapters/account-users.js";
import { disabledPushNotifier } from "./adapters/disabled-push.js";
import { IdgenIdSource } from "./adapters/idgen-ids.js";
import { NotifyPushEraser } from "./adapters/notify-erase.js";
import { NotifyPushNotifier } from "./adapters/notify-push.js";
import { chatMeter, countQueuedEvents, eraseMeter, handoffMeter, unsentMeter } from "./metrics.js";
import { PresenceDeviceLocator } from "./adapters/presence-locator.js";
import { PresenceLocators } from "./adapters/presence-locators.js";
import { MemoryBus } from "./adapters/memory-bus.js";
import { KafkaBus, PublishFailed } from "./adapters/kafka-bus.js";
import { Chat } from "./domain/chat.js";
import { loadChatConfig, type ChatConfig } from "./config.js";
import { deliveryWorker } from "./delivery.js";
import { OverdueDeliveries } from "./overdue-deliveries.js";
import { SqlDeliveryOutbox } from "./adapters/store/sql-delivery-outbox.js";
import { mapChatError } from "./errors.js";
import { Gateways } from "./adapters/gateway-links.js";
import { Groups } from "./domain/groups.js";
import { noChatMeter, type ChatMeter, type DeliveryBus, type MessageStore, type PushNotifier } from "./ports.js";
import { chatRoutes, chatServiceNames } from "./server.js";
import { chatMigrations } from "./adapters/store/migrations.js";
import { SqlMessageStore } from "./adapters/store/sql-message-store.js";
import { CassandraMessageStore } from "./adapters/store/cassandra/cassandra-message-store.js";
import { sqliteChatMigrations } from "./adapters/store/sqlite/sqlite-migrations.js";
import { SqliteMessageStore } from "./adapters/store/sqlite/sqlite-message-store.js";

export interface ChatDeps {
  /** Where messages live: a relational storage, whose dialect's store chat migrates and uses; unused when `messageStore` is given. */
  storage?: Storage;
  /** A store opened by the caller (Cassandra); it has no delivery outbox, so the caller pairs it with the Kafka bus. */
  messageStore?: MessageStore;
  account: Transport;
  /** Every account instance, whose block announcements chat follows (the one behind `account` when absent). */
  accountInstances?: InstanceSource;
  idgen: Transport;
  /** Presence, to find where recipients' devices are connected (the one instance when `presenceInstances` is absent). */
  presence: Transport;
  /** Every presence instance, users shared by owner: a lookup stream to each. */
  presenceInstances?: InstanceSource;
  /** The group member cap, the owner included (default 100). */
  maxGroupMembers?: number;
  /** Message edit and delete-for-everyone windows in seconds, 0 for none (defaults 900 and 0, as the config's). */
  editWindowSeconds?: number;
  deleteWindowSeconds?: number;
  /** How to reach a gateway's DeliverService: the internal plane's transport to its announced address, or in process. */
  gatewayTransport: (hello: GatewayHello) => Transport | undefined;
  /** Notify, for pushes to recipients with no connected device; absent: no pushes (said once at start). */
  notify?: { transport: Transport };
  /** The delivery bus, opened by the caller (Kafka); absent: the in-process bus. startChat's close() closes it either way. */
  bus?: DeliveryBus;
}

export interface RunningChat {
  chat: Chat;
  routes: (router: ConnectRouter) => void;
  serviceNames: string[];
  /** Ends the gateways' Streams (at the start of a graceful shutdown). */
  drain(): void;
  close(): Promise<void>;
}

/** The chat service's composition root: store, ports, bus, delivery and routes. */
export async function startChat(deps: ChatDeps, logger: Logger, metrics?: Metrics): Promise<RunningChat> {
  const store = deps.messageStore ?? (await openMessageStore(deps.storage));
  const meter = metrics ? chatMeter(metrics) : noChatMeter;
  const bus = deps.bus ?? memoryBus(logger, meter, metrics);
  const gateways = new Gateways(deps.gatewayTransport, logger);
  const push = pushNotifier(deps, store, logger, metrics);
  // Deletions for everyone take the message back out of notify (its stored text, its unsent pushes).
  const pushEraser = deps.notify && new NotifyPushEraser({ ...deps.notify, logger, ...(metrics ? { onResult: eraseMeter(metrics) } : {}) });
  const blocks = new AccountBlockDirectory(deps.account, logger, deps.accountInstances ? { instances: deps.accountInstances } : {});
  blocks.watch();
  const ports = {
    store,
    ids: new IdgenIdSource(deps.idgen),
    users: new AccountUserDirectory(deps.account),
    bus,
    now: () => new Date(),
    meter,
  };
  const chat = new Chat({
    ...ports,
    blocks,
    editWindowSeconds: deps.editWindowSeconds ?? 900,
    deleteWindowSeconds: deps.deleteWindowSeconds ?? 0,
    ...(pushEraser ? { pushEraser } : {}),
  });
  const groups = new Groups({ ...ports, maxMembers: deps.maxGroupMembers ?? 100 });
  const locator = deps.presenceInstances ? new PresenceLocators(deps.presenceInstances, { logger }) : new PresenceDeviceLocator(deps.presence, { logger });
  // The outbox lives beside the SQL store's inbox (a trigger on it); another store has none.
  const outbox = deps.messageStore === undefined && deps.storage?.dialect === "postgres" ? new SqlDeliveryOutbox(deps.storage.db, logger) : undefined;
  // The outbox covers a process dying between storing an entry and handing it on (its push
  // included), not a gateway or presence failing: devices sync then.
  bus.consume(deliveryWorker({ gateways, locator, push, logger, meter, ...(outbox ? { handedOn: (key) => outbox.handedOn(key) } : {}) }));
  const overdue = outbox && new OverdueDeliveries({ outbox, store, bus, logger });
  overdue?.start();
  const stopping = new AbortController();
  return {
    chat,
    routes: chatRoutes({ chat, groups, mapError: mapChatError, logger, onGateway: (hello) => gateways.join(hello), stopping: stopping.signal }),
    drain: () => stopping.abort(),
    serviceNames: chatServiceNames,
    async close() {
      await overdue?.close();
      await bus.close();
      // Pushes still queued are abandoned (their entries stay in the outbox for another process);
      // the outbox closes after them so the ones that ended are cleared.
      await push.close();
      await pushEraser?.close();
      await outbox?.close();
      await locator.close();
      blocks.close();
      gateways.close();
    },
  };
}

/** The in-process bus, its wait and backlog measured when there are metrics. */
function memoryBus(logger: Logger, meter: ChatMeter, metrics: Metrics | undefined): MemoryBus {
  const bus = new MemoryBus(16, (err) => logger.error({ err }, "delivery failed"), meter.busWaited);
  if (metrics) countQueuedEvents(metrics, () => bus.queued);
  return bus;
}

/** The message store for the storage's dialect, its schema brought up to date. */
async function openMessageStore(storage: Storage | undefined): Promise<MessageStore> {
  if (storage === undefined) throw new Error("startChat needs a storage or a message store");
  if (storage.dialect === "sqlite") {
    await storage.engine.migrate("chat", sqliteChatMigrations);
    return new SqliteMessageStore(storage.engine);
  }
  await migrate(storage.db, "chat", chatMigrations);
  return new SqlMessageStore(storage.db);
}

function pushNotifier(deps: ChatDeps, store: MessageStore, logger: Logger, metrics: Metrics | undefined): PushNotifier {
  if (deps.notify === undefined) {
    logger.warn("notify not configured: no pushes");
    return disabledPushNotifier;
  }
  return new NotifyPushNotifier({
    ...deps.notify,
    store,
    names: new AccountDisplayNames(deps.account),
    logger,
    ...(metrics ? { onResult: handoffMeter(metrics) } : {}),
  });
}

/** The chat service as its own process: gRPC on CHAT_PORT; account, idgen, presence and notify over gRPC; gateways by their hello. */
export const chatProcess: ServiceDefinition<ChatConfig> = {
  name: "chat",
  loadConfig: loadChatConfig,
  logLevel: (config) => config.logLevel,
  shutdownBudgetMs: (config) => config.shutdownGraceMs,
  async start(config, logger) {
    const cassandra = await openCassandraStore(config, logger);
    // With Cassandra chat keeps nothing in a relational database (accounts are the account service's).
    const metrics = new Metrics();
    const storage = cassandra ? undefined : await openConfiguredStorage(config.database, config.dataDir, "chat", logger, metrics.databaseError);
    const plane = openInternalPlane(config.plane, "chat", logger, { listenHosts: [config.host] });
    const mesh = await joinMesh(config.registry, logger, (address, service) => plane.transport(address, service), metrics.etcdError);
    const bus = await openDeliveryBus(config, logger, metrics);
    const chat = await startChat(
      {
        ...(storage ? { storage } : {}),
        ...(cassandra ? { messageStore: cassandra } : {}),
        ...(bus ? { bus } : {}),
        account: mesh.transportTo("account", config.accountAddress),
        accountInstances: { current: mesh.instancesOf("account", config.accountAddress), transport: (address) => plane.transport(address, "account") },
        idgen: mesh.transportTo("idgen", config.idgenAddress),
        presence: mesh.transportTo("presence", config.presenceAddress),
        presenceInstances: { current: mesh.instancesOf("presence", config.presenceAddress), transport: (address) => plane.transport(address, "presence") },
        maxGroupMembers: config.maxGroupMembers,
        editWindowSeconds: config.editWindowSeconds,
        deleteWindowSeconds: config.deleteWindowSeconds,
        // Gateways announce where their DeliverService is on their stream's hello.
        gatewayTransport: (hello) => (hello.deliverAddress === "" ? undefined : plane.transport(hello.deliverAddress, "gateway")),
        ...(config.pushEnabled ? { notify: { transport: mesh.transportTo("notify", config.notifyAddress) } } : {}),
      },
      logger,
      metrics,
    );
    // With Cassandra the store has no check of its own yet (no server to test one against here).
    const readiness = new ReadinessChecks(config.readiness, logger);
    if (storage) readiness.register("database", () => storage.ping());
    const server = await startPlaneServer(plane, {
      host: config.host,
      port: config.port,
      service: chat,
      access: chatAccess,
      mapError: mapChatError,
      logger,
      metrics,
      readiness,
    });
    await mesh.register("chat", config.advertiseAddress ?? new URL(server.url).host);
    readiness.start();
    return {
      ready: { message: "chat service listening", fields: { url: server.url, mesh: mesh.description } },
      async stop() {
        readiness.close();
        await mesh.close(); // out of the registry first: no new calls come here
        await server.close(config.shutdownGraceMs);
        await chat.close();
        await storage?.close();
        await cassandra?.close();
        plane.close();
      },
    };
  },
};

/** The Cassandra store when configured (its schema created when missing), else undefined: the SQL store of `config.database`. */
async function openCassandraStore(config: ChatConfig, logger: Logger): Promise<CassandraMessageStore | undefined> {
  const settings = config.messageStore;
  if (settings.kind === "sql") return undefined;
  const store = await CassandraMessageStore.open(settings);
  logger.info({ keyspace: settings.keyspace, localDataCenter: settings.localDataCenter }, "message store: Cassandra");
  return store;
}

/**
 * Kafka when configured (chat in several processes), else undefined: the
 * in-process bus, which serves this process only. Send failures are logged
 * and counted; handler failures are logged as with the in-process bus.
 */
async function openDeliveryBus(config: ChatConfig, logger: Logger, metrics: Metrics): Promise<DeliveryBus | undefined> {
  const settings = config.deliveryBus;
  if (settings.kind === "memory") return undefined;
  const unsent = unsentMeter(metrics);
  const bus = await KafkaBus.open({
    ...settings,
    logger,
    onError: (err) => {
      if (err instanceof PublishFailed) unsent(err.events);
      logger.error({ err }, "delivery failed");
    },
    onWaited: chatMeter(metrics).busWaited,
  });
  logger.info({ topic: settings.topic, groupId: settings.groupId }, "delivery bus: Kafka");
  return bus;
}
