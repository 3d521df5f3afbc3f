import { openTestDb } from "@parley/testkit";
import { SqlMessageStore } from "../src/store/sql-message-store.js";
import { chatMigrations } from "../src/store/migrations.js";
import { describeMessageStoreBatchContract } from "./message-store-batch-contract.js";
import { describeMessageStoreContract } from "./message-store-contract.js";
import { describeMessageStoreGroupContract } from "./message-store-group-contract.js";
import { describeMessageStoreReadingContract } from "./message-store-reading-contract.js";

for (const kind of ["pglite", "postgres"] as const) {
  const open = async () => {
    const { db, cleanup } = await openTestDb(kind, { component: "chat", list: chatMigrations }, "parley_chat");
    return { store: new SqlMessageStore(db), cleanup };
  };
  describeMessageStoreContract(kind, open);
  describeMessageStoreGroupContract(kind, open);
  describeMessageStoreReadingContract(kind, open);
  describeMessageStoreBatchContract(kind, open);
}
