import assert from "node:assert/strict";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { until } from "@parley/testkit";
import { isSqliteUniqueViolation, SqliteEngine, SqliteError, type Migration, type Procedures } from "../src/index.js";
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

  it("fails every waiting call with the cause when the worker dies, each later call at once, and still closes", { timeout: 30_000 }, async () => {
    const engine = await SqliteEngine.open({ path: ":memory:" });
    await engine.migrate("test", schema);
    const counters = engine.procedures<typeof counterProcedures>(COUNTERS);
    // More calls out at once than the engine's table of waiting calls starts with (256).
    const first = await Promise.all(Array.from({ length: 300 }, () => counters.bump("c", 1n)));
    assert.equal(first.at(-1), 300n);
    const waiting = [counters.endWorker(7), ...Array.from({ length: 300 }, () => counters.read("c"))];
    for (const settled of await Promise.allSettled(waiting)) {
      assert.equal(settled.status, "rejected");
      assert.match(String((settled as PromiseRejectedResult).reason), /the SQLite worker exited \(code 7\)/);
    }
    await assert.rejects(counters.read("c"), /the SQLite worker exited \(code 7\)/);
    await engine.close();
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

  it("starts the log again under writes that never pause, once it holds the restart size", async () => {
    // Passive checkpoints alone never let SQLite start the log again while commits keep coming: it grew without end.
    const path = join(root, "steady.db");
    const wal = `${path}-wal`;
    const engine = await SqliteEngine.open({ path, checkpointIntervalMs: 5, walRestartFrames: 32 });
    let writer: SteadyWriter | undefined;
    try {
      await engine.migrate("test", schema);
      const counters = engine.procedures<typeof counterProcedures>(COUNTERS);
      await untilCheckpointerRuns(path, counters);
      writer = writeWithoutPause(counters);
      // The log's header takes new salts each time the log starts again. The first writes may start
      // it at once (a log copied whole while idle starts again at the next write); the second start
      // must come from the restart size, while commits never stop.
      let salts = await walSalts(wal);
      for (const start of ["first", "second"]) {
        const before = salts;
        salts = await until(
          async () => {
            const now = await walSalts(wal);
            return now !== before && now;
          },
          `the log's ${start} start while the writes go on`,
          { intervalMs: 5 },
        );
      }
      // A log started again is written over from its beginning, so the file's size is the most it ever held:
      // 32 frames of 4 KiB is 128 KiB, and the bound leaves room for a checkpointer held up on a busy machine.
      // With passive checkpoints alone the log grew for seconds, to tens of megabytes.
      const most = (await stat(wal)).size;
      assert.ok(most < 8 * 1024 * 1024, `the log held ${most} bytes`);
      await writer.stop();
      assert.equal(await counters.read(steadyName(0, 0)), 1n, "what was written before the log started again is still there");
    } finally {
      await writer?.stop();
      await engine.close();
    }
  });

  it("goes on committing while another process's reader keeps the log from starting again", async () => {
    const path = join(root, "read-elsewhere.db");
    const engine = await SqliteEngine.open({ path, checkpointIntervalMs: 5, walRestartFrames: 32 });
    const reader = new DatabaseSync(path, { readOnly: true });
    let writer: SteadyWriter | undefined;
    try {
      await engine.migrate("test", schema);
      const counters = engine.procedures<typeof counterProcedures>(COUNTERS);
      await untilCheckpointerRuns(path, counters);
      const steady = writeWithoutPause(counters);
      writer = steady;
      await until(() => steady.written() >= 200, "the writes to be under way");
      // A read transaction (a backup, say) begun while commits come holds a snapshot in the log,
      // so the log cannot start again until it ends. The writer is asked to restart it at every
      // checkpoint: each try must give up at once, not wait out the busy timeout (5 s each).
      reader.exec("BEGIN");
      reader.prepare("SELECT count(*) FROM counters").get();
      const held = steady.written();
      await until(() => steady.written() >= held + 800, "commits to go on while the reader holds its snapshot");
      reader.exec("COMMIT");
      await steady.stop();
      assert.equal(await counters.read(steadyName(0, 0)), 1n);
    } finally {
      await writer?.stop();
      if (reader.isTransaction) reader.exec("COMMIT");
      reader.close();
      await engine.close();
    }
  });

  it("fails to open what is not a database file, naming the cause", async () => {
    await assert.rejects(SqliteEngine.open({ path: root }), /unable to open database file/);
  });
});

/** The salts of a write-ahead log's header (bytes 16-23): SQLite changes them each time the log starts again. */
async function walSalts(path: string): Promise<string> {
  const file = await open(path, "r");
  try {
    const salts = Buffer.alloc(8);
    await file.read(salts, 0, 8, 16);
    return salts.toString("hex");
  } finally {
    await file.close();
  }
}

/** Returns once the engine's checkpointer thread runs: it has copied something of the log into the file. */
async function untilCheckpointerRuns(path: string, counters: Procedures<typeof counterProcedures>): Promise<void> {
  const empty = (await stat(path)).size;
  await Promise.all(Array.from({ length: 100 }, (_, i) => counters.bump(`warm ${i} ${"x".repeat(1_500)}`, 1n)));
  await until(async () => (await stat(path)).size > empty, "the checkpointer to copy the log into the file");
}

interface SteadyWriter {
  /** Calls made so far. */
  written(): number;
  /** Stops calling and waits for the calls out. */
  stop(): Promise<void>;
}

/** The counter the steady writer's lane makes on its nth call overall. */
const steadyName = (lane: number, nth: number) => `${lane} ${nth} ${"x".repeat(1_500)}`;

/** Eight callers, each calling again as soon as it is answered: the worker commits round after round. */
function writeWithoutPause(counters: Procedures<typeof counterProcedures>): SteadyWriter {
  let writing = true;
  let written = 0;
  const done = Promise.all(
    Array.from({ length: 8 }, async (_, lane) => {
      while (writing) await counters.bump(steadyName(lane, written++), 1n);
    }),
  );
  return {
    written: () => written,
    async stop() {
      writing = false;
      await done;
    },
  };
}
