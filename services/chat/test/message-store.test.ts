import { migrate, openPgliteDb, openPostgresDb } from "@parley/relational";
import { createThrowawayDatabase } from "@parley/testkit";
import { SqlMessageStore } from "../src/store/sql-message-store.js";
import { chatMigrations } from "../src/store/migrations.js";
import { describeMessageStoreContract } from "./message-store-contract.js";

describeMessageStoreContract("pglite", async () => {
  const db = await openPgliteDb(undefined);
  await migrate(db, "chat", chatMigrations);
  return { store: new SqlMessageStore(db), cleanup: () => db.close() };
});

// Never skipped: without PARLEY_TEST_PG_URL (set by `npm test`), createThrowawayDatabase
// throws, the `before` hook fails and every test here reports that message.
describeMessageStoreContract("postgres", async () => {
  const database = await createThrowawayDatabase("parley_chat");
  try {
    const db = await openPostgresDb({ url: database.url, maxConnections: 10 });
    await migrate(db, "chat", chatMigrations);
    return {
      store: new SqlMessageStore(db),
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
