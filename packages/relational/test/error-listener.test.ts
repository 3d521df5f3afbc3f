import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createThrowawayDatabase, type ThrowawayDatabase } from "@parley/testkit";
import { openPostgresDb, SqliteEngine, type Migration } from "../src/index.js";
import type * as counterProcedures from "./fixtures/counter-procedures.js";

const COUNTERS = new URL("./fixtures/counter-procedures.js", import.meta.url);
const schema: Migration[] = [{ version: 1, name: "counters", sql: "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)" }];

describe("database error listener (metrics)", () => {
  it("hears of each failed call to the embedded engine as a procedure, and of nothing that succeeded", async () => {
    const heard: { operation: string; err: unknown }[] = [];
    const engine = await SqliteEngine.open({ path: ":memory:", onError: (operation, err) => heard.push({ operation, err }) });
    try {
      await engine.migrate("test", schema);
      const counters = engine.procedures<typeof counterProcedures>(COUNTERS);
      await counters.bump("a", 1n);
      await assert.rejects(counters.bumpThenFail("b"));
      await assert.rejects(counters.insertTwice("c"));
      assert.deepEqual(
        heard.map((h) => h.operation),
        ["procedure", "procedure"],
      );
      assert.match(String(heard[0]!.err), /refused b/);
    } finally {
      await engine.close();
    }
  });

  describe("on Postgres", () => {
    let database: ThrowawayDatabase;
    before(async () => {
      database = await createThrowawayDatabase("parley_db_errors");
    });
    after(() => database?.drop());

    it("hears of a failed statement as a query and of a failed transaction once, as a transaction", async () => {
      const heard: string[] = [];
      const db = await openPostgresDb({ url: database.url, maxConnections: 2, onError: (operation) => heard.push(operation) });
      try {
        await db.query("SELECT 1");
        await assert.rejects(db.query("SELECT * FROM no_such_table"));
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.query("SELECT 1");
            await tx.query("SELECT * FROM no_such_table");
          }),
        );
        assert.deepEqual(heard, ["query", "transaction"]);
      } finally {
        await db.close();
      }
    });
  });
});
