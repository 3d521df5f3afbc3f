import type { ConnectRouter, Transport } from "@connectrpc/connect";
import { joinMesh, type InstanceSource } from "@parley/mesh";
import { migrate, openConfiguredStorage, type Storage } from "@parley/relational";
import { ErrorTranslator, Metrics, openInternalPlane, ReadinessChecks, startPlaneServer, type Logger, type ServiceDefinition } from "@parley/runtime";
import { notifyAccess } from "./access.js";
import { AccountTargetDirectory } from "./adapters/account-targets.js";
import { loadNotifyConfig, type NotifyConfig } from "./config.js";
import { Dispatcher } from "./domain/dispatcher.js";
import { mapNotifyError } from "./errors.js";
import { notifyMetrics } from "./metrics.js";
import { Notifications } from "./domain/notifications.js";
import type { Channel, Provider } from "./ports.js";
import { configuredProviders } from "./adapters/providers/configured.js";
import { notifyRoutes, notifyServiceNames } from "./server.js";
import { notifyMigrations } from "./adapters/store/migrations.js";
import type { JobStore } from "./ports.js";
import { SqlJobStore } from "./adapters/store/sql-job-store.js";
import { SqliteJobStore } from "./adapters/store/sqlite/sqlite-job-store.js";

export type NotifyTuning = Pick<
  NotifyConfig,
  "maxAttempts" | "retryBaseMs" | "retryMaxMs" | "leaseMs" | "pollMs" | "concurrency" | "rateLimit" | "rateWindowMs" | "targetsCacheMs"
>;

export interface NotifyDeps {
  storage: Storage;
  account: Transport;
  /** Every account instance, for their change announcements (default: the one behind `account`). */
  accountInstances?: InstanceSource;
  /** One per channel that can send (configuredProviders builds them from the environment); notify closes them. */
  providers: ReadonlyMap<Channel, Provider>;
  config: NotifyTuning;
}

export interface RunningNotify {
  routes: (router: ConnectRouter) => void;
  serviceNames: string[];
  notifications: Notifications;
  /** The providers in use, per channel (the embedded mode's recording ones can be read back). */
  providers: ReadonlyMap<Channel, Provider>;
  /** Stops the workers (waiting up to graceMs for sends in flight) and closes providers. */
  close(graceMs: number): Promise<void>;
}

/** The notify service's composition root: store, account directory, pipeline and workers. */
export async function startNotify(deps: NotifyDeps, logger: Logger, metrics?: Metrics): Promise<RunningNotify> {
  const { config } = deps;
  const store = await openJobStore(deps.storage);
  const directory = new AccountTargetDirectory(deps.account, logger, {
    ttlMs: config.targetsCacheMs,
    ...(deps.accountInstances ? { instances: deps.accountInstances } : {}),
  });
  directory.watch();
  const counters = metrics ? notifyMetrics(metrics, store, deps.providers) : undefined;
  const dispatcher = new Dispatcher({
    store,
    providers: deps.providers,
    directory,
    maxAttempts: config.maxAttempts,
    backoff: { initialMs: config.retryBaseMs, maxMs: config.retryMaxMs },
    leaseMs: config.leaseMs,
    pollMs: config.pollMs,
    concurrency: config.concurrency,
    logger,
    ...(counters ? { onAttempt: counters.attempt } : {}),
  });
  const notifications = new Notifications({
    store,
    directory,
    available: new Set(deps.providers.keys()),
    rateLimit: config.rateLimit > 0 ? { max: config.rateLimit, windowMs: config.rateWindowMs } : undefined,
    onQueued: (channels) => dispatcher.wake(channels),
    ...(counters ? { onAccepted: counters.accepted } : {}),
  });
  // Jobs left pending by an earlier run (crash or restart) are due now: the first lease picks them up.
  dispatcher.start();
  return {
    routes: notifyRoutes(notifications, new ErrorTranslator(mapNotifyError, logger)),
    serviceNames: notifyServiceNames,
    notifications,
    providers: deps.providers,
    async close(graceMs) {
      await dispatcher.stop(graceMs);
      await directory.close();
      await Promise.all([...deps.providers.values()].map((p) => p.close().catch(() => undefined)));
    },
  };
}

/** The job store for the storage's dialect, its schema brought up to date. */
async function openJobStore(storage: Storage): Promise<JobStore> {
  if (storage.dialect === "sqlite") return SqliteJobStore.open(storage.engine);
  await migrate(storage.db, "notify", notifyMigrations);
  return new SqlJobStore(storage.db);
}

/** The notify service as its own process: gRPC on NOTIFY_PORT, account over gRPC, providers from the environment. */
export const notifyProcess: ServiceDefinition<NotifyConfig> = {
  name: "notify",
  loadConfig: loadNotifyConfig,
  logLevel: (config) => config.logLevel,
  shutdownBudgetMs: (config) => config.shutdownGraceMs,
  async start(config, logger) {
    const providers = configuredProviders(config.providers, config.recording, logger);
    const metrics = new Metrics();
    const storage = await openConfiguredStorage(config.database, config.dataDir, "notify", logger, metrics.databaseError);
    const plane = openInternalPlane(config.plane, "notify", logger, { listenHosts: [config.host] });
    const mesh = await joinMesh(config.registry, logger, (address, service) => plane.transport(address, service), metrics.etcdError);
    const notify = await startNotify(
      {
        storage,
        account: mesh.transportTo("account", config.accountAddress),
        accountInstances: { current: mesh.instancesOf("account", config.accountAddress), transport: (address) => plane.transport(address, "account") },
        providers,
        config,
      },
      logger,
      metrics,
    );
    const readiness = new ReadinessChecks(config.readiness, logger);
    readiness.register("database", () => storage.ping());
    const server = await startPlaneServer(plane, {
      host: config.host,
      port: config.port,
      service: notify,
      access: notifyAccess,
      mapError: mapNotifyError,
      logger,
      metrics,
      readiness,
    });
    await mesh.register("notify", config.advertiseAddress ?? new URL(server.url).host);
    readiness.start();
    return {
      ready: { message: "notify service listening", fields: { url: server.url, channels: [...providers.keys()], mesh: mesh.description } },
      async stop() {
        readiness.close();
        await mesh.close(); // out of the registry first: no new calls come here
        await server.close(config.shutdownGraceMs);
        await notify.close(config.shutdownGraceMs);
        await storage.close();
        plane.close();
      },
    };
  },
};
