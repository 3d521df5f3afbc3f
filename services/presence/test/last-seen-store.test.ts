import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SqliteEngine } from "@parley/relational";
import { openTestDb, openTestStorage } from "@parley/testkit";
import { MemoryLastSeenStore } from "../src/adapters/memory-last-seen.js";
import { presenceMigrations } from "../src/adapters/migrations.js";
import { SqlLastSeenStore } from "../src/adapters/sql-last-seen.js";
import { SqliteLastSeenStore } from "../src/adapters/sqlite-last-seen.js";
import { describeLastSeenStoreContract } from "./last-seen-contract.js";

describeLastSeenStoreContract("memory", async () => ({ store: new MemoryLastSeenStore(), cleanup: async () => {} }));

describeLastSeenStoreContract("sqlite", async () => {
  const { storage, cleanup } = await openTestStorage("sqlite", "parley_presence");
  if (storage.dialect !== "sqlite") throw new Error("expected SQLite storage");
  return { store: await SqliteLastSeenStore.open(storage.engine), cleanup };
});

describeLastSeenStoreContract("postgres", async () => {
  const { db, cleanup } = await openTestDb({ component: "presence", list: presenceMigrations }, "parley_presence");
  return { store: new SqlLastSeenStore(db), cleanup };
});

describe("sqlite last seen store", () => {
  it("keeps last-seen times across a restart on the same file", async () => {
    const folder = await mkdtemp(join(tmpdir(), "parley-presence-"));
    const path = join(folder, "presence.sqlite");
    try {
      const first = await SqliteEngine.open({ path });
      await (await SqliteLastSeenStore.open(first)).save(9_007_199_254_740_993n, 1_700_000_000_123);
      await first.close();
      const second = await SqliteEngine.open({ path });
      try {
        const after = await SqliteLastSeenStore.open(second);
        assert.deepEqual(await after.load([9_007_199_254_740_993n]), new Map([[9_007_199_254_740_993n, 1_700_000_000_123]]));
      } finally {
        await second.close();
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("refuses a time no Date can hold with a RangeError", async () => {
    const { storage, cleanup } = await openTestStorage("sqlite", "parley_presence");
    try {
      if (storage.dialect !== "sqlite") throw new Error("expected SQLite storage");
      const store = await SqliteLastSeenStore.open(storage.engine);
      await assert.rejects(store.save(1n, Number.NaN), RangeError);
      await assert.rejects(store.save(1n, 9e15), RangeError);
      assert.deepEqual(await store.load([1n]), new Map());
    } finally {
      await cleanup();
    }
  });
});
