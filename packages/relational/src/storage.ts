import { join } from "node:path";
import type { Logger } from "pino";
import { openPostgresDb } from "./adapters/postgres-db.js";
import type { Db, DbErrorListener } from "./port.js";
import { SqliteEngine } from "./sqlite/engine.js";

/** Where the relational store lives: runtime's databaseSettings (DATABASE_URL, DATABASE_PASSWORD_FILE, SQLITE_SYNCHRONOUS). */
export interface DatabaseTarget {
  /** A postgres:// URL; undefined: the embedded SQLite. */
  readonly url: string | undefined;
  /** Returns the password for each new connection (overriding the URL's); undefined: the URL's own. */
  readonly password?: (() => string) | undefined;
  /** The embedded SQLite's durability (SQLITE_SYNCHRONOUS; default "normal": safe from a process crash, not from power loss). */
  readonly synchronous?: "full" | "normal";
}

/**
 * Where a service keeps its data, by SQL dialect: each service's composition
 * root picks the store adapters written for it. Postgres goes through the
 * `Db` port; SQLite runs procedures in its worker thread.
 */
export type Storage = ({ readonly dialect: "postgres"; readonly db: Db } | { readonly dialect: "sqlite"; readonly engine: SqliteEngine }) & {
  /** Resolves once the database answers a trivial query: the readiness check of the services that keep data. */
  ping(): Promise<void>;
  close(): Promise<void>;
};

export function postgresStorage(db: Db): Storage {
  return {
    dialect: "postgres",
    db,
    async ping() {
      await db.query("SELECT 1");
    },
    close: () => db.close(),
  };
}

export function sqliteStorage(engine: SqliteEngine): Storage {
  return { dialect: "sqlite", engine, ping: () => engine.ping(), close: () => engine.close() };
}

/**
 * Postgres when a URL is configured; otherwise the embedded SQLite in the
 * file `<dataDir>/<name>.sqlite` (services sharing a data folder use names of their own).
 */
export async function openConfiguredStorage(
  database: DatabaseTarget,
  dataDir: string,
  name: string,
  logger?: Logger,
  /** Told of each failed database call (Metrics.databaseError). */
  onError?: DbErrorListener,
): Promise<Storage> {
  const listener = onError ? { onError } : {};
  if (database.url !== undefined) {
    return postgresStorage(
      await openPostgresDb({ url: database.url, ...(database.password ? { password: database.password } : {}), ...(logger ? { logger } : {}), ...listener }),
    );
  }
  return sqliteStorage(await SqliteEngine.open({ path: join(dataDir, `${name}.sqlite`), synchronous: database.synchronous ?? "normal", ...listener }));
}
