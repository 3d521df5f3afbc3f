import type { ConnectRouter } from "@connectrpc/connect";
import { migrate, openConfiguredStorage, type Storage } from "@parley/relational";
import { joinMesh } from "@parley/mesh";
import { Metrics, openInternalPlane, ReadinessChecks, startPlaneServer, type Logger, type ServiceDefinition } from "@parley/runtime";
import { accountAccess } from "./access.js";
import { Accounts } from "./domain/accounts.js";
import { SqlAccountStore } from "./adapters/sql-account-store.js";
import { SqliteAccountStore } from "./adapters/sqlite/sqlite-account-store.js";
import { loadAccountConfig, type AccountConfig } from "./config.js";
import { mapAccountError } from "./errors.js";
import { AuthLimits } from "./domain/limits/auth-limits.js";
import { memoryCounters, sqlCounters } from "./adapters/limit-counters.js";
import { accountMigrations } from "./adapters/migrations.js";
import { PasswordHasher } from "./domain/passwords.js";
import type { AccountStore } from "./ports.js";
import { accountRoutes, accountServiceNames } from "./server.js";
import { loadTokenKey } from "./adapters/token-key.js";
import { AccessTokens } from "./domain/tokens.js";

export interface RunningAccount {
  accounts: Accounts;
  routes: (router: ConnectRouter) => void;
  serviceNames: string[];
  /** Ends the long-lived event streams (at the start of a graceful shutdown). */
  drain(): void;
  close(): Promise<void>;
}

/**
 * The account service's composition root: picks the store adapter from the
 * configuration, applies migrations, and builds the domain. The storage may
 * be handed in (the embedded launcher shares one database between services;
 * the account process keeps it for its readiness check); whoever opened it
 * closes it.
 */
export async function startAccount(config: AccountConfig, logger: Logger, shared?: { storage: Storage }, metrics?: Metrics): Promise<RunningAccount> {
  const storage = shared?.storage ?? (await openConfiguredStorage(config.database, config.dataDir, "account", logger, metrics?.databaseError));
  const store = await openAccountStore(storage);
  const key = await loadTokenKey(config.tokenSecret, config.dataDir);
  const now = () => Date.now();
  const accounts = new Accounts({
    store,
    hasher: new PasswordHasher(config.scryptLogN),
    tokens: new AccessTokens(key, config.accessTokenTtlSeconds, now),
    refreshTtlSeconds: config.refreshTokenTtlSeconds,
    refreshReuseHistory: config.refreshTokenReuseHistory,
    // With Postgres the counts are shared by every account instance; the embedded SQLite means this process is the only one.
    limits: new AuthLimits(config.limits, storage.dialect === "postgres" && config.database.url !== undefined ? sqlCounters(storage.db) : memoryCounters()),
    now,
    maxDevices: config.maxDevices,
  });
  const stopping = new AbortController();
  return {
    accounts,
    routes: accountRoutes(accounts, stopping.signal, logger),
    drain: () => stopping.abort(),
    serviceNames: accountServiceNames,
    close: async () => {
      accounts.events.removeAllListeners();
      if (!shared) await storage.close();
    },
  };
}

/** The account store for the storage's dialect, its schema brought up to date. */
export async function openAccountStore(storage: Storage): Promise<AccountStore> {
  if (storage.dialect === "sqlite") return SqliteAccountStore.open(storage.engine);
  await migrate(storage.db, "account", accountMigrations);
  return new SqlAccountStore(storage.db);
}

/** The account service as its own process, serving gRPC (and Connect JSON) on ACCOUNT_PORT. */
export const accountProcess: ServiceDefinition<AccountConfig> = {
  name: "account",
  loadConfig: loadAccountConfig,
  logLevel: (config) => config.logLevel,
  shutdownBudgetMs: (config) => config.shutdownGraceMs,
  async start(config, logger) {
    const metrics = new Metrics();
    const plane = openInternalPlane(config.plane, "account", logger, { listenHosts: [config.host] });
    const mesh = await joinMesh(config.registry, logger, (address, service) => plane.transport(address, service), metrics.etcdError);
    const storage = await openConfiguredStorage(config.database, config.dataDir, "account", logger, metrics.databaseError);
    const account = await startAccount(config, logger, { storage }, metrics);
    const readiness = new ReadinessChecks(config.readiness, logger);
    readiness.register("database", () => storage.ping());
    const server = await startPlaneServer(plane, {
      host: config.host,
      port: config.port,
      service: account,
      access: accountAccess,
      mapError: mapAccountError,
      logger,
      metrics,
      readiness,
    });
    await mesh.register("account", config.advertiseAddress ?? new URL(server.url).host);
    readiness.start();
    return {
      ready: { message: "account service listening", fields: { url: server.url, mesh: mesh.description } },
      async stop() {
        readiness.close();
        await mesh.close(); // out of the registry first: no new calls come here
        await server.close(config.shutdownGraceMs);
        await account.close();
        await storage.close();
        plane.close();
      },
    };
  },
};
