import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AnnouncedCache } from "../src/announced-cache.js";

describe("AnnouncedCache", () => {
  it("reuses an answer until it is ttlMs old, then fetches again", async () => {
    let now = 0;
    let fetches = 0;
    const cache = new AnnouncedCache<string, number>({ ttlMs: 100, maxEntries: 10, now: () => now });
    const fetch = async () => ++fetches;
    assert.equal(await cache.get("a", fetch), 1);
    now = 99;
    assert.equal(await cache.get("a", fetch), 1);
    now = 100;
    assert.equal(await cache.get("a", fetch), 2);
  });

  it("fetches again after the key, or everything, is invalidated", async () => {
    let fetches = 0;
    const cache = new AnnouncedCache<string, number>({ ttlMs: 60_000, maxEntries: 10 });
    const fetch = async () => ++fetches;
    await cache.get("a", fetch);
    await cache.get("b", fetch);
    cache.invalidate("a");
    assert.equal(await cache.get("a", fetch), 3);
    assert.equal(await cache.get("b", fetch), 2, "another key is kept");
    cache.invalidate();
    assert.equal(await cache.get("b", fetch), 4);
  });

  it("does not keep an answer fetched across an invalidation: it may predate what was announced", async () => {
    let fetches = 0;
    const cache = new AnnouncedCache<string, number>({ ttlMs: 60_000, maxEntries: 10 });
    let release!: () => void;
    const slow = cache.get("a", async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return ++fetches;
    });
    cache.invalidate("a");
    release();
    assert.equal(await slow, 1, "the caller still gets its answer");
    assert.equal(await cache.get("a", async () => ++fetches), 2, "but it was not stored");
  });

  it("drops the oldest entry beyond maxEntries, and keeps nothing with ttlMs 0", async () => {
    let fetches = 0;
    const fetch = async () => ++fetches;
    const cache = new AnnouncedCache<string, number>({ ttlMs: 60_000, maxEntries: 2 });
    await cache.get("a", fetch);
    await cache.get("b", fetch);
    await cache.get("c", fetch);
    assert.equal(await cache.get("b", fetch), 2);
    assert.equal(await cache.get("a", fetch), 4, "the oldest went");
    const off = new AnnouncedCache<string, number>({ ttlMs: 0, maxEntries: 2 });
    assert.equal(await off.get("a", fetch), 5);
    assert.equal(await off.get("a", fetch), 6);
  });
});
