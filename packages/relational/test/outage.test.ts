import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isOutage } from "@parley/runtime";
import { createThrowawayDatabase, freePorts, type ThrowawayDatabase } from "@parley/testkit";
import { openPgliteDb, openPostgresDb, type Db } from "../src/index.js";

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
 * Every error here is a real one from PGlite or a Postgres server.
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

  it("counts a query on a closed PGlite as an outage", async () => {
    const pglite = await openPgliteDb(undefined);
    await pglite.close();
    const err = await failure(pglite.query("SELECT 1"));
    assert.equal(isOutage(err), true, String(err));
  });

  it("does not count bad input or a conflict as an outage", async () => {
    const outOfRange = await failure(db.query("SELECT $1::int8", [String(2n ** 63n)]));
    const nul = await failure(db.query("SELECT $1::text", ["a\u0000b"]));
    const duplicate = await failure(db.query("INSERT INTO outage_kinds VALUES (1, 'again')"));
    const syntax = await failure(db.query("SELEC 1"));
    for (const err of [outOfRange, nul, duplicate, syntax]) assert.equal(isOutage(err), false, String(err));
  });
});
