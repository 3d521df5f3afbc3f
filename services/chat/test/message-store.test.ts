import { openTestDb, openTestStorage } from "@parley/testkit";
import { chatMigrations } from "../src/adapters/store/migrations.js";
import { SqlMessageStore } from "../src/adapters/store/sql-message-store.js";
import { sqliteChatMigrations } from "../src/adapters/store/sqlite/sqlite-migrations.js";
import { SqliteMessageStore } from "../src/adapters/store/sqlite/sqlite-message-store.js";
import { describeMessageStoreBatchContract } from "./message-store-batch-contract.js";
import { describeMessageStoreChangesContract } from "./message-store-changes-contract.js";
import { describeMessageStoreReactionsContract } from "./message-store-reactions-contract.js";
import { describeMessageStoreMentionsContract } from "./message-store-mentions-contract.js";
import { describeMessageStoreRepliesContract } from "./message-store-replies-contract.js";
import type * as rawRows from "./sqlite-raw-rows.js";
import { describeMessageStoreContract, type OpenedMessageStore } from "./message-store-contract.js";
import { describeMessageStoreGroupContract } from "./message-store-group-contract.js";
import { describeMessageStoreReadingContract } from "./message-store-reading-contract.js";
import { describeMessageStoreSearchContract } from "./message-store-search-contract.js";

/** Each adapter on its own engine: SQLite in a file (its worker thread, as `npm start` runs it) and a throwaway Postgres database. */
const adapters: Record<"sqlite" | "postgres", () => Promise<OpenedMessageStore>> = {
  async sqlite() {
    const { storage, cleanup } = await openTestStorage("sqlite");
    if (storage.dialect !== "sqlite") throw new Error("expected a SQLite storage");
    await storage.engine.migrate("chat", sqliteChatMigrations);
    const raw = storage.engine.procedures<typeof rawRows>(new URL("./sqlite-raw-rows.js", import.meta.url));
    return { store: new SqliteMessageStore(storage.engine), cleanup, storedText: (c, m) => raw.storedText(c, m) };
  },
  async postgres() {
    const { db, cleanup } = await openTestDb({ component: "chat", list: chatMigrations }, "parley_chat");
    const storedText = async (conversationId: bigint, messageId: bigint) => {
      const { rows } = await db.query<{ text: string }>("SELECT text FROM messages WHERE conversation_id = $1 AND message_id = $2", [
        String(conversationId),
        String(messageId),
      ]);
      return rows[0]?.text;
    };
    return { store: new SqlMessageStore(db), cleanup, storedText };
  },
};

for (const [kind, open] of Object.entries(adapters)) {
  describeMessageStoreContract(kind, open);
  describeMessageStoreGroupContract(kind, open);
  describeMessageStoreReadingContract(kind, open);
  describeMessageStoreBatchContract(kind, open);
  describeMessageStoreChangesContract(kind, open);
  describeMessageStoreSearchContract(kind, open);
  describeMessageStoreReactionsContract(kind, open);
  describeMessageStoreRepliesContract(kind, open);
  describeMessageStoreMentionsContract(kind, open);
}
