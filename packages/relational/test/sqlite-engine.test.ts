import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { until } from "@parley/testkit";
import { isSqliteUniqueViolation, SqliteEngine, SqliteError, type Migration } from "../src/index.js";
import type * as counterProcedures from "./fixtures/counter-procedures.js";

const COUNTERS = new URL("./fixtures/counter-procedures.js", import.meta.url);
const schema: Migration[] = [{ version: 1, name: "counters", sql: "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)" }];

describe("SQLite engine (a worker thread running procedures)", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "parley-sqlite-"));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("runs procedures with bigint values exact above 2^53 and keeps data across reopen", async () => {
    const path = join(root, "nested", "keep.db");
    const first = await SqliteEngine.open({ path });
    assert.deepEqual(await first.migrate("test", schema), [1]);
    const counters = first.procedures<typeof counterProcedures>(COUNTERS);
    assert.equal(await counters.bump("a", 9007199254740993n), 9007199254740993n);
    assert.equal(await counters.bump("a", 2n), 9007199254740995n);
    await first.close();

    const reopened = await SqliteEngine.open({ path });
    try {
      assert.deepEqual(await reopened.migrate("test", schema), [], "applied migrations are not applied again");
      assert.equal(await reopened.procedures<typeof counterProcedures>(COUNTERS).read("a"), 9007199254740995n);
    } finally {
      await reopened.close();
    }
  });

  it("rolls a failed call back and rethrows its error by name and message", async () => {
    const engine = await SqliteEngine.open({ path: ":memory:" });
    try {
      await engine.migrate("test", schema);
      const counters = engine.procedures<typeof counterProcedures>(COUNTERS);
      await assert.rejects(
        counters.bumpThenFail("b"),
        (err: unknown) => err instanceof SqliteError && err.name === "RangeError" && err.message === "refused b",
      );
      assert.equal(await counters.read("b"), undefined, "the write before the throw was rolled back");
      const unique = await counters.insertTwice("c").catch((err: unknown) => err);
      assert.ok(isSqliteUniqueViolation(unique), `a duplicate key is a unique violation: ${String(unique)}`);
      assert.equal(await counters.read("c"), undefined);
    } finally {
      await engine.close();
    }
  });

  it("keeps each call of a round atomic on its own: a failing call undoes its writes and nothing else", async () => {
    const engine = await SqliteEngine.open({ path: ":memory:" });
    try {
      await engine.migrate("test", schema);
      const counters = engine.procedures<typeof counterProcedures>(COUNTERS);
      // Made in one turn, so they travel together and run as one round in one transaction.
      const results = await Promise.allSettled([counters.bump("x", 1n), counters.bumpThenFail("y"), counters.insertTwice("z"), counters.bump("x", 2n)]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "rejected", "fulfilled"],
      );
      assert.equal(await counters.read("x"), 3n);
      assert.equal(await counters.read("y"), undefined);
      assert.equal(await counters.read("z"), undefined);
    } finally {
      await engine.close();
    }
  });

  it("fails a whole round with its cause when SQLite ends the round's transaction itself, and goes on with the next", async () => {
    const engine = await SqliteEngine.open({ path: ":memory:" });
    try {
      await engine.migrate("test", schema);
      const counters = engine.procedures<typeof counterProcedures>(COUNTERS);
      const results = await Promise.allSettled([counters.bump("p", 1n), counters.bumpThenLoseTransaction("q"), counters.bump("p", 2n)]);
      assert.deepEqual(
        results.map((r) => (r.status === "rejected" ? String((r.reason as Error).message) : "fulfilled")),
        ["database or disk is full (q)", "database or disk is full (q)", "database or disk is full (q)"],
        "every call of the round hears the cause: nothing of it was kept",
      );
      assert.equal(await counters.read("p"), undefined);
      assert.equal(await counters.bump("p", 5n), 5n, "the next round runs");
    } finally {
      await engine.close();
    }
  });

  it("refuses arguments that cannot cross to the worker, failing only that call", async () => {
    const engine = await SqliteEngine.open({ path: ":memory:" });
    try {
      const counters = engine.procedures<typeof counterProcedures>(COUNTERS);
      const [bad, good] = await Promise.allSettled([counters.echo(() => 1), counters.echo("fine")]);
      assert.equal(bad.status, "rejected");
      assert.match(String((bad as PromiseRejectedResult).reason), /could not be cloned/);
      assert.deepEqual(good, { status: "fulfilled", value: "fine" });
    } finally {
      await engine.close();
    }
  });

  it("answers calls in the order they were made, and carries dates, bytes and nested values", async () => {
    const engine = await SqliteEngine.open({ path: ":memory:" });
    try {
      await engine.migrate("test", schema);
      const counters = engine.procedures<typeof counterProcedures>(COUNTERS);
      const results = await Promise.all(Array.from({ length: 200 }, () => counters.bump("n", 1n)));
      assert.deepEqual(
        results,
        Array.from({ length: 200 }, (_, i) => BigInt(i + 1)),
      );
      const value = { at: new Date("2024-02-29T12:34:56.789Z"), bytes: new Uint8Array([1, 2, 3]), list: [1n, "x", null] };
      assert.deepEqual(await counters.echo(value), value);
    } finally {
      await engine.close();
    }
  });

  it("names a missing procedure, refuses a missing module, and refuses calls after close", async () => {
    const engine = await SqliteEngine.open({ path: ":memory:" });
    const counters = engine.procedures<Record<string, (db: never, ...args: unknown[]) => unknown>>(COUNTERS) as unknown as Record<
      string,
      () => Promise<unknown>
    >;
    await assert.rejects(counters.nothing!(), /has no procedure nothing/);
    assert.throws(() => engine.procedures(new URL("./fixtures/missing.js", import.meta.url)), /no procedure module/);
    const inFlight = engine.procedures<typeof counterProcedures>(COUNTERS).echo("last");
    await engine.close();
    assert.equal(await inFlight, "last", "a call made before close is answered");
    await assert.rejects(engine.procedures<typeof counterProcedures>(COUNTERS).echo("late"), /closed/);
  });

  it("answers a ping while the worker runs, and refuses one once closed (the readiness check)", async () => {
    const engine = await SqliteEngine.open({ path: ":memory:" });
    await engine.ping();
    await engine.close();
    await assert.rejects(engine.ping(), /closed/);
  });

  it("copies the log into the database file in the background, not in a commit", async () => {
    const path = join(root, "checkpointed.db");
    const engine = await SqliteEngine.open({ path, checkpointIntervalMs: 20 });
    try {
      await engine.migrate("test", schema);
      const before = (await stat(path)).size;
      const counters = engine.procedures<typeof counterProcedures>(COUNTERS);
      await Promise.all(Array.from({ length: 2_000 }, (_, i) => counters.bump(`counter ${i} ${"x".repeat(200)}`, 1n)));
      // Commits never checkpoint (wal_autocheckpoint is 0), so only the checkpointer makes the file grow while the engine is open.
      await until(async () => (await stat(path)).size > before, `the database file to grow from ${before} bytes while open`, { intervalMs: 10 });
    } finally {
      await engine.close();
    }
  });

  it("fails to open what is not a database file, naming the cause", async () => {
    await assert.rejects(SqliteEngine.open({ path: root }), /unable to open database file/);
  });
});
