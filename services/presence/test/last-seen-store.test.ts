import { openTestDb } from "@parley/testkit";
import { MemoryLastSeenStore } from "../src/adapters/memory-last-seen.js";
import { presenceMigrations } from "../src/adapters/migrations.js";
import { SqlLastSeenStore } from "../src/adapters/sql-last-seen.js";
import { describeLastSeenStoreContract } from "./last-seen-contract.js";

describeLastSeenStoreContract("memory", async () => ({ store: new MemoryLastSeenStore(), cleanup: async () => {} }));

for (const kind of ["pglite", "postgres"] as const) {
  describeLastSeenStoreContract(kind, async () => {
    const { db, cleanup } = await openTestDb(kind, { component: "presence", list: presenceMigrations }, "parley_presence");
    return { store: new SqlLastSeenStore(db), cleanup };
  });
}
