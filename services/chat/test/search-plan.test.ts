/**
 * Search on Postgres must find its rows through the GIN index on
 * to_tsvector('simple', text) (migration 6), never by reading every message:
 * checked by the query plan, with sequential scans priced out as an empty
 * table would otherwise always be scanned.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openTestDb } from "@parley/testkit";
import { chatMigrations } from "../src/adapters/store/migrations.js";
import { SEARCH_SQL, searchParameters } from "../src/adapters/store/sql-search.js";

async function planOf(conversationId?: bigint): Promise<string[]> {
  const { db, cleanup } = await openTestDb({ component: "chat", list: chatMigrations }, "parley_chat_search");
  try {
    return await db.transaction(async (tx) => {
      await tx.query("SET LOCAL enable_seqscan = off");
      const parameters = searchParameters({ userId: 1n, words: ["hello", "world"], limit: 21, ...(conversationId ? { conversationId } : {}) });
      const { rows } = await tx.query<{ "QUERY PLAN": string }>(`EXPLAIN ${SEARCH_SQL}`, parameters);
      return rows.map((row) => row["QUERY PLAN"]);
    });
  } finally {
    await cleanup();
  }
}

describe("search plan: postgres", () => {
  it("matches words across conversations through messages_text_search", async () => {
    const plan = await planOf();
    assert.ok(
      plan.some((step) => step.includes("Bitmap Index Scan on messages_text_search")),
      plan.join("\n"),
    );
    assert.ok(!plan.some((step) => step.includes("Seq Scan on messages")), plan.join("\n"));
  });

  it("in one conversation, reads through the text index or that conversation's messages only, never every message", async () => {
    // The planner's choice by cost: the words' index, or the conversation's newest messages first
    // (cheaper while matches are frequent there). Both are bounded; a scan of all messages is not.
    const plan = await planOf(42n);
    const text = plan.join("\n");
    assert.ok(text.includes("messages_text_search") || /Index Scan Backward using messages_pkey on messages m[\s\S]*conversation_id = '42'/.test(text), text);
    assert.ok(!plan.some((step) => step.includes("Seq Scan on messages")), text);
  });
});
