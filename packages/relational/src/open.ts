import type { Logger } from "pino";
import { openPgliteDb } from "./adapters/pglite-db.js";
import { openPostgresDb } from "./adapters/postgres-db.js";
import type { Db } from "./port.js";

/**
 * The adapter choice every service makes the same way: Postgres when a URL
 * is configured, otherwise the embedded PGlite in `pgliteDir`.
 */
export function openConfiguredDb(databaseUrl: string | undefined, pgliteDir: string, logger?: Logger): Promise<Db> {
  return databaseUrl !== undefined ? openPostgresDb({ url: databaseUrl, ...(logger ? { logger } : {}) }) : openPgliteDb(pgliteDir);
}
