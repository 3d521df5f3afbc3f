/**
 * Collapsing a push must cost the same on the ten-thousandth message of a conversation as on the
 * first: it reads the user's pending deliveries with the key (a partial index), never their
 * notification history. Both adapters are checked by their query plans, and a database upgraded
 * with deliveries already pending still collapses them.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { migrate, SqliteEngine } from "@parley/relational";
import { openTestDb } from "@parley/testkit";
import { notifyMigrations } from "../src/adapters/store/migrations.js";
import { SqlJobStore, SUPERSEDE_SQL } from "../src/adapters/store/sql-job-store.js";
import { SUPERSEDE_SQL as SQLITE_SUPERSEDE_SQL } from "../src/adapters/store/sqlite/job-procedures.js";
import { notifySqliteMigrations } from "../src/adapters/store/sqlite/sqlite-migrations.js";
import { SqliteJobStore } from "../src/adapters/store/sqlite/sqlite-job-store.js";
import type { NewNotification } from "../src/ports.js";

const T0 = new Date("2026-01-01T00:00:00.000Z");

/** A new-message push to device 7 of user 1, collapsed per conversation. */
const push = (eventId: string): NewNotification => ({
  eventId,
  userId: 1n,
  kind: "new_message",
  params: {},
  collapseKey: "conv-42",
  badge: 1,
  fingerprint: `fp-${eventId}`,
  content: { title: "t", body: "b", data: {} },
  deliveries: [{ channel: "fcm", target: { channel: "fcm", token: "device-7" }, deviceId: 7n }],
});

async function withFolder<T>(body: (folder: string) => Promise<T>): Promise<T> {
  const folder = await mkdtemp(join(tmpdir(), "parley-notify-collapse-"));
  try {
    return await body(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

describe("collapse cost: sqlite", () => {
  it("finds the deliveries to skip through deliveries_pending_collapse, without reading notifications", async () => {
    await withFolder(async (folder) => {
      const path = join(folder, "notify.sqlite");
      const engine = await SqliteEngine.open({ path });
      await SqliteJobStore.open(engine);
      await engine.close();
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        const plan = db
          .prepare(`EXPLAIN QUERY PLAN ${SQLITE_SUPERSEDE_SQL}`)
          .all()
          .map((row) => String(row.detail));
        assert.ok(
          plan.some((step) => step.includes("SEARCH deliveries USING INDEX deliveries_pending_collapse (user_id=? AND collapse_key=?)")),
          plan.join("\n"),
        );
        assert.ok(!plan.some((step) => step.includes("notifications")), plan.join("\n"));
      } finally {
        db.close();
      }
    });
  });

  it("collapses a delivery left pending by the release before the index", async () => {
    await withFolder(async (folder) => {
      const engine = await SqliteEngine.open({ path: join(folder, "notify.sqlite") });
      try {
        await engine.migrate("notify", notifySqliteMigrations.slice(0, 1));
        const old = engine.procedures<typeof import("./sqlite-reset-procedures.js")>(new URL("./sqlite-reset-procedures.js", import.meta.url));
        const oldId = await old.insertOldPendingPush(1n, "conv-42", 7n, T0.getTime());
        const store = await SqliteJobStore.open(engine);
        await store.accept(push("new"), new Date(T0.getTime() + 1_000));
        const before = await store.get(oldId);
        assert.equal(before?.deliveries[0]?.state, "skipped");
      } finally {
        await engine.close();
      }
    });
  });
});

describe("collapse cost: postgres", () => {
  it("finds the deliveries to skip through deliveries_pending_collapse, without reading notifications", async () => {
    const { db, cleanup } = await openTestDb({ component: "notify", list: notifyMigrations }, "parley_notify");
    try {
      const plan = await db.transaction(async (tx) => {
        // An empty table would be scanned whatever the indexes; the question is whether the index can serve the query.
        await tx.query("SET LOCAL enable_seqscan = off");
        const { rows } = await tx.query<{ "QUERY PLAN": string }>(`EXPLAIN ${SUPERSEDE_SQL}`, ["1", "conv-42", "2", "superseded", T0]);
        return rows.map((row) => row["QUERY PLAN"]);
      });
      assert.ok(
        plan.some((step) => step.includes("deliveries_pending_collapse")),
        plan.join("\n"),
      );
      assert.ok(!plan.some((step) => step.includes("notifications")), plan.join("\n"));
    } finally {
      await cleanup();
    }
  });

  it("collapses a delivery left pending by the release before the index", async () => {
    const { db, cleanup } = await openTestDb({ component: "notify", list: notifyMigrations.slice(0, 2) }, "parley_notify");
    try {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO notifications (event_id, user_id, kind, params, collapse_key, badge, created_at)
         VALUES ('old', 1, 'new_message', '{}', 'conv-42', 1, $1) RETURNING id`,
        [T0],
      );
      const oldId = rows[0]!.id;
      await db.query(
        `INSERT INTO deliveries (notification_id, channel, target, device_id, state, next_attempt_at)
         VALUES ($1, 'fcm', '{"channel":"fcm","token":"device-7"}', 7, 'pending', $2)`,
        [oldId, T0],
      );
      await migrate(db, "notify", notifyMigrations);
      const store = new SqlJobStore(db);
      await store.accept(push("new"), new Date(T0.getTime() + 1_000));
      assert.equal((await store.get(BigInt(oldId)))?.deliveries[0]?.state, "skipped");
    } finally {
      await cleanup();
    }
  });
});
