import type { ConnectRouter, Transport } from "@connectrpc/connect";
import { migrate, type Storage } from "@parley/relational";
import type { Logger, Metrics } from "@parley/runtime";
import { AccountTargetDirectory } from "./adapters/account-targets.js";
import type { NotifyConfig } from "./config.js";
import { Dispatcher } from "./dispatcher.js";
import { notifyMetrics } from "./metrics.js";
import { Notifications } from "./notifications.js";
import type { Channel, Provider } from "./ports.js";
import { notifyRoutes, notifyServiceNames } from "./server.js";
import { notifyMigrations } from "./store/migrations.js";
import type { JobStore } from "./store/ports.js";
import { SqlJobStore } from "./store/sql-job-store.js";
import { SqliteJobStore } from "./store/sqlite/sqlite-job-store.js";

export type NotifyTuning = Pick<
  NotifyConfig,
  "maxAttempts" | "retryBaseMs" | "retryMaxMs" | "leaseMs" | "pollMs" | "concurrency" | "rateLimit" | "rateWindowMs" | "targetsCacheMs"
>;

export interface NotifyDeps {
  storage: Storage;
  account: Transport;
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
  const directory = new AccountTargetDirectory(deps.account, logger, { ttlMs: config.targetsCacheMs });
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
    routes: notifyRoutes(notifications),
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
