import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { createThrowawayDatabase, openTestDb, type ThrowawayDatabase } from "@parley/testkit";
import { openPostgresDb, type Db } from "../src/index.js";
import { describeRelationalContract } from "./relational-contract.js";

const run = promisify(execFile);

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

  it("keeps its connections through a quiet minute: the next burst finds them open instead of starting new server processes", async (t) => {
    // Only the pool's timers are faked, from before it exists, so its idle timers are too.
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const quiet = await openPostgresDb({ url: database.url, maxConnections: 3 });
    try {
      const pidsOf = async (n: number) =>
        new Set(
          (await Promise.all(Array.from({ length: n }, () => quiet.query<{ pid: number }>("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)")))).map(
            (r) => r.rows[0]!.pid,
          ),
        );
      const opened = await pidsOf(3);
      assert.equal(opened.size, 3, "three connections at once");
      t.mock.timers.tick(60_000);
      const after = await pidsOf(3);
      assert.deepEqual([...after].sort(), [...opened].sort(), "the same three server processes a minute later");
    } finally {
      await quiet.close();
    }
  });

  it("does not keep a process alive with its idle connections: a script that never closes it still ends", async () => {
    const script = `import { openPostgresDb } from "@parley/relational";
const db = await openPostgresDb({ url: process.env.URL });
await Promise.all([1, 2, 3].map(() => db.query("SELECT pg_sleep(0.05)")));
console.log("queried, never closed");`;
    // Bounded well below the idle close (5 minutes), which is what would otherwise end it.
    const { stdout } = await run(process.execPath, ["--conditions=@parley/source", "--import", "tsx", "--input-type=module", "-e", script], {
      env: { ...process.env, URL: database.url },
      timeout: 60_000,
    });
    assert.equal(stdout.trim(), "queried, never closed");
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
