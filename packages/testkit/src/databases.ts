import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, openPostgresDb, postgresStorage, SqliteEngine, sqliteStorage, type Db, type Migration, type Storage } from "@parley/relational";
import { createThrowawayDatabase } from "./postgres.js";

/**
 * A throwaway Postgres database with `migrations` applied, through the `Db`
 * port (never skipped: without PARLEY_TEST_PG_URL this throws, and the suite
 * reports it). `cleanup` closes and drops it.
 */
export async function openTestDb(
  migrations?: { component: string; list: readonly Migration[] },
  prefix = "parley_test",
): Promise<{ db: Db; cleanup(): Promise<void> }> {
  const database = await createThrowawayDatabase(prefix);
  try {
    const db = await openPostgresDb({ url: database.url, maxConnections: 10 });
    if (migrations) await migrate(db, migrations.component, migrations.list);
    return {
      db,
      async cleanup() {
        await db.close();
        await database.drop();
      },
    };
  } catch (err) {
    await database.drop();
    throw err;
  }
}

export type TestStorageKind = "sqlite" | "postgres";

/**
 * A fresh, empty store of the given kind, as a service's composition root
 * takes it: SQLite in a file of a temporary folder (its worker thread, WAL
 * and all, as `npm start` runs it), or a throwaway Postgres database.
 * `cleanup` closes it and discards the data.
 */
export async function openTestStorage(kind: TestStorageKind, prefix = "parley_test"): Promise<{ storage: Storage; cleanup(): Promise<void> }> {
  if (kind === "sqlite") {
    const folder = await mkdtemp(join(tmpdir(), "parley-sqlite-"));
    const storage = sqliteStorage(await SqliteEngine.open({ path: join(folder, "test.sqlite") }));
    return {
      storage,
      async cleanup() {
        await storage.close();
        await rm(folder, { recursive: true, force: true });
      },
    };
  }
  const { db, cleanup } = await openTestDb(undefined, prefix);
  return { storage: postgresStorage(db), cleanup };
}
