import type { ConnectRouter, Transport } from "@connectrpc/connect";
import { joinMesh } from "@parley/mesh";
import { migrate, openConfiguredStorage, type Storage } from "@parley/relational";
import { Metrics, openInternalPlane, ReadinessChecks, startPlaneServer, type Logger, type ServiceDefinition } from "@parley/runtime";
import { presenceAccess } from "./access.js";
import { presenceMigrations } from "./adapters/migrations.js";
import { SqlLastSeenStore } from "./adapters/sql-last-seen.js";
import { SqliteLastSeenStore } from "./adapters/sqlite-last-seen.js";
import { systemTime } from "./adapters/system-time.js";
import { loadPresenceConfig, type PresenceConfig } from "./config.js";
import type { Clock, LastSeenStore, Timers } from "./ports.js";
import { mapPresenceError } from "./errors.js";
import { PresenceTracker } from "./domain/tracker.js";
import { AccountPeopleDirectory } from "./adapters/account-people.js";
import { PresenceHub, type PresenceCluster } from "./hub.js";
import { noPeers, soleOwnership } from "./adapters/sole-ownership.js";
import { RegistryOwnership } from "./adapters/registry-ownership.js";
import { ConnectPeers } from "./adapters/connect-peers.js";
import { presenceRoutes, presenceServiceNames } from "./server.js";

export interface PresenceDeps {
  storage: Storage;
  account: Transport;
  graceMs: number;
  heartbeatTimeoutMs: number;
  /** Injected in tests to run the grace period without waiting. */
  time?: Clock & Timers;
  /** Who owns which user among several presence instances; absent: this one owns every user (one process, or static addresses). */
  cluster?: PresenceCluster;
}

export interface RunningPresence {
  hub: PresenceHub;
  routes: (router: ConnectRouter) => void;
  serviceNames: string[];
  drain(): void;
  close(): Promise<void>;
}

/** The presence service's composition root: in-memory state, last-seen times in SQL. */
export async function startPresence(deps: PresenceDeps, logger: Logger, metrics?: Metrics): Promise<RunningPresence> {
  const lastSeen = await openLastSeenStore(deps.storage);
  const time = deps.time ?? systemTime;
  const hub = new PresenceHub(new AccountPeopleDirectory(deps.account), logger, deps.cluster ?? { ownership: soleOwnership, peers: noPeers });
  const tracker = new PresenceTracker({
    clock: time,
    timers: time,
    graceMs: deps.graceMs,
    heartbeatTimeoutMs: deps.heartbeatTimeoutMs,
    lastSeen,
    onChange: (change) => void hub.publish(change),
  });
  hub.useTracker(tracker);
  if (metrics) {
    const heartbeats = metrics.counter({
      name: "parley_presence_heartbeats_total",
      help: "Heartbeats presence received, by outcome: applied (a known session) or unknown (no such session here: dropped)",
      labelNames: ["outcome"],
    });
    const applied = heartbeats.cell({ outcome: "applied" });
    const unknown = heartbeats.cell({ outcome: "unknown" });
    hub.onHeartbeat = (known) => (known ? applied : unknown).inc();
  }
  const stopping = new AbortController();
  return {
    hub,
    routes: presenceRoutes(hub, logger, stopping.signal),
    serviceNames: presenceServiceNames,
    drain: () => stopping.abort(),
    close: () => tracker.close(),
  };
}

/** The last-seen store for the storage's dialect, its schema brought up to date. */
async function openLastSeenStore(storage: Storage): Promise<LastSeenStore> {
  if (storage.dialect === "sqlite") return SqliteLastSeenStore.open(storage.engine);
  await migrate(storage.db, "presence", presenceMigrations);
  return new SqlLastSeenStore(storage.db);
}

/** The presence service as its own process: gRPC on PRESENCE_PORT, account over gRPC. */
export const presenceProcess: ServiceDefinition<PresenceConfig> = {
  name: "presence",
  loadConfig: loadPresenceConfig,
  logLevel: (config) => config.logLevel,
  shutdownBudgetMs: (config) => config.shutdownGraceMs,
  async start(config, logger) {
    const metrics = new Metrics();
    const storage = await openConfiguredStorage(config.database, config.dataDir, "presence", logger, metrics.databaseError);
    const plane = openInternalPlane(config.plane, "presence", logger, { listenHosts: [config.host] });
    const mesh = await joinMesh(config.registry, logger, (address, service) => plane.transport(address, service), metrics.etcdError);
    // With a registry, users are shared among the presence instances registered there; without, this one owns them all.
    const ownership = mesh.backend && new RegistryOwnership(mesh.instancesOf("presence", ""), () => mesh.holdsLease(), logger);
    const presence = await startPresence(
      {
        storage,
        account: mesh.transportTo("account", config.accountAddress),
        graceMs: config.graceMs,
        heartbeatTimeoutMs: config.heartbeatTimeoutMs,
        ...(ownership ? { cluster: { ownership, peers: new ConnectPeers((address) => plane.transport(address, "presence"), logger) } } : {}),
      },
      logger,
      metrics,
    );
    const readiness = new ReadinessChecks(config.readiness, logger);
    readiness.register("database", () => storage.ping());
    mesh.addReadinessChecks(readiness);
    const server = await startPlaneServer(plane, {
      host: config.host,
      port: config.port,
      service: presence,
      access: presenceAccess,
      mapError: mapPresenceError,
      logger,
      metrics,
      readiness,
    });
    const address = config.advertiseAddress ?? new URL(server.url).host;
    ownership?.start(address);
    await mesh.register("presence", address);
    readiness.start();
    return {
      ready: { message: "presence service listening", fields: { url: server.url, mesh: mesh.description } },
      async stop() {
        readiness.close();
        await mesh.close(); // out of the registry first: no new calls come here
        ownership?.close();
        await server.close(config.shutdownGraceMs);
        await presence.close();
        await storage.close();
        plane.close();
      },
    };
  },
};
