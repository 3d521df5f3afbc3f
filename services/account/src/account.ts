import { join } from "node:path";
import type { ConnectRouter } from "@connectrpc/connect";
import { migrate, openConfiguredDb, type Db } from "@parley/relational";
import type { Logger } from "@parley/runtime";
import { Accounts } from "./accounts.js";
import { SqlAccountStore } from "./adapters/sql-account-store.js";
import type { AccountConfig } from "./config.js";
import { AuthLimits } from "./limits/auth-limits.js";
import { memoryCounters, sqlCounters } from "./limits/limiters.js";
import { accountMigrations } from "./migrations.js";
import { PasswordHasher } from "./passwords.js";
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
export async function startAccount(config: AccountConfig, logger: Logger, shared?: { db: Db }): Promise<RunningAccount> {
  const db = shared?.db ?? (await openAccountDb(config, logger));
  const applied = await migrate(db, "account", accountMigrations);
  if (applied.length > 0) logger.info({ applied }, "account migrations applied");
  const key = await loadTokenKey(config.tokenSecret, config.dataDir);
  const now = () => Date.now();
  const accounts = new Accounts({
    store: new SqlAccountStore(db),
    hasher: new PasswordHasher(config.scryptLogN),
    tokens: new AccessTokens(key, config.accessTokenTtlSeconds, now),
    refreshTtlSeconds: config.refreshTokenTtlSeconds,
    refreshReuseHistory: config.refreshTokenReuseHistory,
    // With Postgres the counts are shared by every account instance; PGlite means this process is the only one.
    limits: new AuthLimits(config.limits, config.database.url === undefined ? memoryCounters() : sqlCounters(db)),
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
      if (!shared) await db.close();
    },
  };
}

export function openAccountDb(config: AccountConfig, logger: Logger): Promise<Db> {
  return openConfiguredDb(config.database, join(config.dataDir, "pglite"), logger);
}
