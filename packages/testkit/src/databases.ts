import { migrate, openPgliteDb, openPostgresDb, type Db, type Migration } from "@parley/relational";
import { createThrowawayDatabase } from "./postgres.js";

export type TestDbKind = "pglite" | "postgres";

/**
 * A fresh database of the given kind with `migrations` applied: PGlite in
 * memory, or a throwaway Postgres database (never skipped: without
 * PARLEY_TEST_PG_URL this throws, and the suite reports it). `cleanup`
 * closes it and, for Postgres, drops it.
 */
export async function openTestDb(
  kind: TestDbKind,
  migrations?: { component: string; list: readonly Migration[] },
  prefix = "parley_test",
): Promise<{ db: Db; cleanup(): Promise<void> }> {
  if (kind === "pglite") {
    const db = await openPgliteDb(undefined);
    if (migrations) await migrate(db, migrations.component, migrations.list);
    return { db, cleanup: () => db.close() };
  }
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
