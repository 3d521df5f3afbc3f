import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SqliteEngine } from "@parley/relational";
import { openTestDb, openTestStorage } from "@parley/testkit";
import { notifyMigrations } from "../src/adapters/store/migrations.js";
import type { NewNotification } from "../src/ports.js";
import { SqlJobStore } from "../src/adapters/store/sql-job-store.js";
import { SqliteJobStore } from "../src/adapters/store/sqlite/sqlite-job-store.js";
import { describeJobStoreContract } from "./job-store-contract.js";

describeJobStoreContract("sqlite", async () => {
  const { storage, cleanup } = await openTestStorage("sqlite", "parley_notify");
  if (storage.dialect !== "sqlite") throw new Error("expected SQLite storage");
  const reset = storage.engine.procedures<typeof import("./sqlite-reset-procedures.js")>(new URL("./sqlite-reset-procedures.js", import.meta.url));
  return {
    store: await SqliteJobStore.open(storage.engine),
    // One worker runs the calls one at a time.
    concurrent: false,
    reset: () => reset.resetNotify(),
    cleanup,
  };
});

describeJobStoreContract("postgres", async () => {
  const { db, cleanup } = await openTestDb({ component: "notify", list: notifyMigrations }, "parley_notify");
  return {
    store: new SqlJobStore(db),
    concurrent: true,
    reset: async () => {
      await db.query("TRUNCATE notification_events, deliveries, notifications, erased_events RESTART IDENTITY");
    },
    cleanup,
  };
});

/** A notification with one SMS delivery. */
const sample = (eventId: string): NewNotification => ({
  eventId,
  userId: 1n,
  kind: "new_message",
  params: {},
  collapseKey: "",
  badge: 0,
  fingerprint: `fp-${eventId}`,
  content: { title: "t", body: "b", data: {} },
  deliveries: [{ channel: "sms", target: { channel: "sms", phone: "+15550100" } }],
});

describe("sqlite job store", () => {
  it("keeps notifications, deliveries and leases across a restart on the same file", async () => {
    const folder = await mkdtemp(join(tmpdir(), "parley-notify-"));
    const path = join(folder, "notify.sqlite");
    try {
      const T0 = new Date("2026-01-01T00:00:00.000Z");
      const first = await SqliteEngine.open({ path });
      const before = await SqliteJobStore.open(first);
      const { notification } = await before.accept(sample("kept"), T0);
      const [leased] = await before.lease(T0, 10, 30_000);
      await first.close();

      const second = await SqliteEngine.open({ path });
      try {
        const after = await SqliteJobStore.open(second);
        assert.deepEqual((await after.get(notification.id))?.notification, notification);
        assert.deepEqual(await after.lease(new Date(T0.getTime() + 29_999), 10, 30_000), []);
        assert.deepEqual(
          (await after.lease(new Date(T0.getTime() + 30_000), 10, 30_000)).map((l) => l.job.id),
          [leased!.job.id],
        );
      } finally {
        await second.close();
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("refuses a negative limit with a RangeError, where SQLite alone would read it as no limit", async () => {
    const { storage, cleanup } = await openTestStorage("sqlite", "parley_notify");
    try {
      if (storage.dialect !== "sqlite") throw new Error("expected SQLite storage");
      const store = await SqliteJobStore.open(storage.engine);
      await assert.rejects(store.listDead(-1), RangeError);
      await assert.rejects(store.listForUser(1n, -1), RangeError);
      // A due job waits, so a lease that read -1 as "no limit" would hand it out.
      const now = new Date("2026-01-01T00:00:00.000Z");
      await store.accept(sample("due"), now);
      assert.deepEqual(await store.lease(now, -1, 30_000), []);
      assert.equal((await store.lease(now, 1, 30_000)).length, 1);
    } finally {
      await cleanup();
    }
  });
});
