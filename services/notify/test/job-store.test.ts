import { openTestDb } from "@parley/testkit";
import { notifyMigrations } from "../src/store/migrations.js";
import { SqlJobStore } from "../src/store/sql-job-store.js";
import { describeJobStoreContract } from "./job-store-contract.js";

for (const kind of ["pglite", "postgres"] as const) {
  describeJobStoreContract(kind, async () => {
    const { db, cleanup } = await openTestDb(kind, { component: "notify", list: notifyMigrations }, "parley_notify");
    return {
      store: new SqlJobStore(db),
      concurrent: kind === "postgres",
      reset: async () => {
        await db.query("TRUNCATE notification_events, deliveries, notifications RESTART IDENTITY");
      },
      cleanup,
    };
  });
}
