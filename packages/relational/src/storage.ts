import { join } from "node:path";
import type { Logger } from "pino";
import { openPgliteDb } from "./adapters/pglite-db.js";
import { openPostgresDb } from "./adapters/postgres-db.js";
import type { DatabaseTarget } from "./open.js";
import type { Db } from "./port.js";
import { SqliteEngine } from "./sqlite/engine.js";

/**
 * Where a service keeps its data, by SQL dialect: each service's composition
 * root picks the store adapters written for it. Postgres (and PGlite, which
 * speaks it) goes through the `Db` port; SQLite runs procedures in its
 * worker thread.
 */
export type Storage =
  | { readonly dialect: "postgres"; readonly db: Db; close(): Promise<void> }
  | { readonly dialect: "sqlite"; readonly engine: SqliteEngine; close(): Promise<void> };

export function postgresStorage(db: Db): Storage {
  return { dialect: "postgres", db, close: () => db.close() };
}

export function sqliteStorage(engine: SqliteEngine): Storage {
  return { dialect: "sqlite", engine, close: () => engine.close() };
}

/** Postgres when a URL is configured; otherwise the embedded store in `dataDir` (`name` tells services sharing a folder apart). */
export async function openConfiguredStorage(database: DatabaseTarget, dataDir: string, name: string, logger?: Logger): Promise<Storage> {
  if (database.url !== undefined) {
    return postgresStorage(await openPostgresDb({ url: database.url, ...(database.password ? { password: database.password } : {}), ...(logger ? { logger } : {}) }));
  }
  return postgresStorage(await openPgliteDb(join(dataDir, name)));
}
