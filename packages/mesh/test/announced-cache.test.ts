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

  it("shares one fetch among concurrent misses of a key, but not a failed one nor one made before an invalidation", async () => {
    let fetches = 0;
    const cache = new AnnouncedCache<string, number>({ ttlMs: 60_000, maxEntries: 10 });
    const gates: (() => void)[] = [];
    const gated =
      (fail = false) =>
      async () => {
        const n = ++fetches;
        await new Promise<void>((resolve) => gates.push(resolve));
        if (fail) throw new Error(`fetch ${n} failed`);
        return n;
      };
    const first = Array.from({ length: 20 }, () => cache.get("a", gated()));
    assert.equal(fetches, 1, "20 callers, one fetch");
    gates.shift()!();
    assert.deepEqual(new Set(await Promise.all(first)), new Set([1]));
    assert.equal(await cache.get("a", gated()), 1, "then kept");

    const failing = Array.from({ length: 5 }, () => cache.get("b", gated(true)));
    gates.shift()!();
    const outcomes = await Promise.allSettled(failing);
    assert.ok(outcomes.every((o) => o.status === "rejected" && (o.reason as Error).message === "fetch 2 failed"));
    const retry = cache.get("b", gated());
    assert.equal(fetches, 3, "the next caller after a failure fetches again");
    gates.shift()!();
    assert.equal(await retry, 3);

    const before = cache.get("c", gated());
    cache.invalidate("c");
    const after = cache.get("c", gated());
    assert.equal(fetches, 5, "a caller after the invalidation does not join the fetch made before it");
    gates.shift()!();
    gates.shift()!();
    assert.equal(await before, 4);
    assert.equal(await after, 5);
    assert.equal(await cache.get("c", gated()), 5, "the fetch after the invalidation is the one kept");

    const thrown = cache.get("d", () => {
      throw new Error("no transport");
    });
    await assert.rejects(thrown, /no transport/, "a fetch that throws at once rejects, as one that fails later");
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
