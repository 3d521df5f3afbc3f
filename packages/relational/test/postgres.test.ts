import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { createThrowawayDatabase, openTestDb, type ThrowawayDatabase } from "@parley/testkit";
import { openPostgresDb, type Db } from "../src/index.js";
import { describeRelationalContract } from "./relational-contract.js";

describeRelationalContract("postgres", () => openTestDb(undefined, "parley_relational"));

describe("relational store (postgres connections)", () => {
  let database: ThrowawayDatabase;
  let db: Db;

  before(async () => {
    database = await createThrowawayDatabase("parley_relational");
    db = await openPostgresDb({ url: database.url, maxConnections: 2 });
  });
  after(async () => {
    await db?.close();
    await database?.drop();
  });

  // Regression: a checked-out client had no 'error' listener, so a connection
  // killed inside a transaction emitted an unhandled 'error' and crashed the process.
  it("rejects a transaction whose connection is killed, without crashing, and keeps serving", async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        // With a timeout, pg_terminate_backend returns once the backend has exited, so its FATAL
        // message already waits on this client's socket; the event loop reads it before the next
        // turn (the answer above came in the same or a later poll). The connection dies while no
        // query runs on it.
        const { rows: ended } = await db.query<{ ended: boolean }>("SELECT pg_terminate_backend($1, 10000) AS ended", [rows[0]?.pid]);
        assert.deepEqual(ended, [{ ended: true }]);
        await nextTurn();
        await tx.query("SELECT 1");
      }),
      /not queryable/,
      "the error came while the connection was idle in the transaction",
    );
    for (let i = 0; i < 3; i++) {
      const { rows } = await db.query<{ one: number }>("SELECT 1 AS one");
      assert.deepEqual(rows, [{ one: 1 }]);
    }
  });
});
