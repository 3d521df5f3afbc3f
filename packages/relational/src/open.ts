import type { Logger } from "pino";
import { openPgliteDb } from "./adapters/pglite-db.js";
import { openPostgresDb } from "./adapters/postgres-db.js";
import type { Db } from "./port.js";

/** Where the relational store lives: DATABASE_URL and DATABASE_PASSWORD_FILE (runtime's databaseSettings). */
export interface DatabaseTarget {
  /** A postgres:// URL; undefined: the embedded PGlite. */
  readonly url: string | undefined;
  /** Returns the password for each new connection (overriding the URL's); undefined: the URL's own. */
  readonly password?: (() => string) | undefined;
}

/**
 * The adapter choice every service makes the same way: Postgres when a URL
 * is configured, otherwise the embedded PGlite in `pgliteDir`.
 */
export function openConfiguredDb(database: DatabaseTarget, pgliteDir: string, logger?: Logger): Promise<Db> {
  if (database.url === undefined) return openPgliteDb(pgliteDir);
  return openPostgresDb({ url: database.url, ...(database.password ? { password: database.password } : {}), ...(logger ? { logger } : {}) });
}
