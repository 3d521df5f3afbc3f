import { migrate, openPgliteDb, openPostgresDb } from "@parley/relational";
import { createThrowawayDatabase } from "@parley/testkit";
import { MemoryLastSeenStore } from "../src/adapters/memory-last-seen.js";
import { presenceMigrations } from "../src/adapters/migrations.js";
import { SqlLastSeenStore } from "../src/adapters/sql-last-seen.js";
import { describeLastSeenStoreContract } from "./last-seen-contract.js";

describeLastSeenStoreContract("memory", async () => ({ store: new MemoryLastSeenStore(), cleanup: async () => {} }));

describeLastSeenStoreContract("pglite", async () => {
  const db = await openPgliteDb(undefined);
  await migrate(db, "presence", presenceMigrations);
  return { store: new SqlLastSeenStore(db), cleanup: () => db.close() };
});

// Never skipped: without PARLEY_TEST_PG_URL (set by `npm test`), createThrowawayDatabase
// throws, the `before` hook fails and every test here reports that message.
describeLastSeenStoreContract("postgres", async () => {
  const database = await createThrowawayDatabase("parley_presence");
  try {
    const db = await openPostgresDb({ url: database.url, maxConnections: 4 });
    await migrate(db, "presence", presenceMigrations);
    return {
      store: new SqlLastSeenStore(db),
      async cleanup() {
        await db.close();
        await database.drop();
      },
    };
  } catch (err) {
    await database.drop();
    throw err;
  }
});
