/**
 * parley_append_batch must not plan its statements again on every call
 * (migration 8): the first call on a new connection already runs generic
 * plans, whose arrays are parameters ($n), where a custom plan carries the
 * call's own arrays as constants. Read from auto_explain's plans of the
 * function's nested statements, sent to this client.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { migrate, openPostgresDb } from "@parley/relational";
import { createThrowawayDatabase, type ThrowawayDatabase } from "@parley/testkit";
import pg from "pg";
import { chatMigrations } from "../src/adapters/store/migrations.js";

const APPEND_ONE = `SELECT outcome, seqs FROM parley_append_batch($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::timestamptz[])`;

describe("parley_append_batch's plans: postgres", () => {
  let database: ThrowawayDatabase;

  before(async () => {
    database = await createThrowawayDatabase("parley_chat_plans");
    const db = await openPostgresDb({ url: database.url, maxConnections: 1 });
    try {
      await migrate(db, "chat", chatMigrations);
      await db.query("INSERT INTO conversations (id, kind, last_activity_id) VALUES (1, 1, 0)");
      await db.query("INSERT INTO conversation_members (conversation_id, user_id) VALUES (1, 10), (1, 11)");
    } finally {
      await db.close();
    }
  });

  after(async () => {
    await database?.drop();
  });

  it("runs generic plans from the first call on a connection", async () => {
    const client = new pg.Client({ connectionString: database.url });
    const logged: string[] = [];
    client.on("notice", (notice) => logged.push(notice.message ?? ""));
    await client.connect();
    try {
      await client.query("LOAD 'auto_explain'");
      await client.query("SET auto_explain.log_min_duration = 0");
      await client.query("SET auto_explain.log_nested_statements = on");
      await client.query("SET auto_explain.log_verbose = on");
      await client.query("SET client_min_messages = log");
      const { rows } = await client.query<{ outcome: string; seqs: string[] }>(APPEND_ONE, [
        ["10"],
        ["first"],
        ["1"],
        ["100"],
        ["7"],
        ["hello"],
        [new Date().toISOString()],
      ]);
      assert.deepEqual(rows, [{ outcome: "stored", seqs: ["1", "1"] }]);
    } finally {
      await client.end();
    }
    const plans = logged.join("\n");
    const calls = plans.match(/Function Call: unnest\(.*$/gm) ?? [];
    // The function's statements read their arrays through unnest: at least the claim, the entries and the message rows.
    assert.ok(calls.length >= 3, `expected the nested statements' plans, got:\n${plans}`);
    const custom = calls.filter((call) => call.includes("'{"));
    assert.deepEqual(custom, [], `statements planned for this call's arrays:\n${plans}`);
  });
});
