import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isOutage } from "@parley/runtime";
import { createThrowawayDatabase, freePorts, type ThrowawayDatabase } from "@parley/testkit";
import { openPostgresDb, SqliteEngine, type Db } from "../src/index.js";
import type * as counterProcedures from "./fixtures/counter-procedures.js";

/** The error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

/**
 * What the adapters throw when the database is gone must read as an outage
 * (the services answer UNAVAILABLE, retryable), and what they throw for bad
 * input or a conflict must not (those are answered by the domain or are bugs).
 * Every error here is a real one from the SQLite engine or a Postgres server.
 */
describe("relational store: outages are told apart from other errors (isOutage)", () => {
  let database: ThrowawayDatabase;
  let db: Db;

  before(async () => {
    database = await createThrowawayDatabase("parley_outage_kinds");
    db = await openPostgresDb({ url: database.url, maxConnections: 2 });
    await db.query("CREATE TABLE outage_kinds (id int8 PRIMARY KEY, note text NOT NULL)");
    await db.query("INSERT INTO outage_kinds VALUES (1, 'one')");
  });
  after(async () => {
    await db?.close();
    await database?.drop();
  });

  it("counts a refused connection to Postgres as an outage", async () => {
    const [port] = await freePorts(1);
    const err = await failure(openPostgresDb({ url: `postgres://postgres@127.0.0.1:${port}/nothing` }));
    assert.equal(isOutage(err), true, String(err));
  });

  it("counts a connection the server terminated (57P01) as an outage, and the pool recovers", async () => {
    const err = await failure(db.query("SELECT pg_terminate_backend(pg_backend_pid())"));
    assert.equal((err as { code?: string }).code, "57P01");
    assert.equal(isOutage(err), true);
    assert.deepEqual((await db.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
  });

  it("counts a call on a closed SQLite engine as an outage, and a constraint violation in SQLite as none", async () => {
    const engine = await SqliteEngine.open({ path: ":memory:" });
    await engine.migrate("outage", [{ version: 1, name: "counters", sql: "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)" }]);
    const counters = engine.procedures<typeof counterProcedures>(new URL("./fixtures/counter-procedures.js", import.meta.url));
    const duplicate = await failure(counters.insertTwice("x"));
    assert.equal(isOutage(duplicate), false, String(duplicate));
    await engine.close();
    const closed = await failure(counters.read("x"));
    assert.equal(isOutage(closed), true, String(closed));
  });

  it("does not count bad input or a conflict as an outage", async () => {
    const outOfRange = await failure(db.query("SELECT $1::int8", [String(2n ** 63n)]));
    const nul = await failure(db.query("SELECT $1::text", ["a\u0000b"]));
    const duplicate = await failure(db.query("INSERT INTO outage_kinds VALUES (1, 'again')"));
    const syntax = await failure(db.query("SELEC 1"));
    for (const err of [outOfRange, nul, duplicate, syntax]) assert.equal(isOutage(err), false, String(err));
  });
});
