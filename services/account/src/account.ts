import type { ConnectRouter } from "@connectrpc/connect";
import { migrate, openConfiguredStorage, type Storage } from "@parley/relational";
import type { Logger } from "@parley/runtime";
import { Accounts } from "./accounts.js";
import { SqlAccountStore } from "./adapters/sql-account-store.js";
import { SqliteAccountStore } from "./adapters/sqlite/sqlite-account-store.js";
import type { AccountConfig } from "./config.js";
import { AuthLimits } from "./limits/auth-limits.js";
import { memoryCounters, sqlCounters } from "./limits/limiters.js";
import { accountMigrations } from "./migrations.js";
import { PasswordHasher } from "./passwords.js";
import type { AccountStore } from "./ports.js";
import { accountRoutes, accountServiceNames } from "./server.js";
import { loadTokenKey } from "./token-key.js";
import { AccessTokens } from "./tokens.js";

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
 * configuration, applies migrations, and builds the domain. `db` may be
 * handed in when the embedded launcher shares one database between services.
 */
export async function startAccount(config: AccountConfig, logger: Logger, shared?: { storage: Storage }): Promise<RunningAccount> {
  const storage = shared?.storage ?? (await openConfiguredStorage(config.database, config.dataDir, "account", logger));
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
    routes: accountRoutes(accounts, stopping.signal),
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
