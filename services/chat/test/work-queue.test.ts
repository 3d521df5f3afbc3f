import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { TtlCache } from "../src/adapters/ttl-cache.js";
import { WorkQueue } from "../src/adapters/work-queue.js";

/** A job the test finishes by hand. */
const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
};

const unexpected = (err: unknown) => assert.fail(`a job threw: ${String(err)}`);

describe("work queue", () => {
  it("runs at most `concurrency` jobs at once and starts the next as one finishes", async () => {
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    const queue = new WorkQueue<number>({
      capacity: 10,
      concurrency: 2,
      run: async (i) => {
        started.push(i);
        await gates[i]!.opened;
      },
      onError: unexpected,
    });
    for (let i = 0; i < 5; i++) assert.equal(queue.offer(i), true);
    assert.deepEqual(started, [0, 1]);
    assert.equal(queue.size, 3);
    gates[1]!.open();
    await tick();
    assert.deepEqual(started, [0, 1, 2]);
    for (const g of gates) g.open();
    await tick();
    assert.deepEqual(started, [0, 1, 2, 3, 4]);
    await queue.close();
  });

  it("replaces a waiting job with the same key in its place, but never a running one", async () => {
    const g = gate();
    const started: string[] = [];
    const queue = new WorkQueue<string>({
      capacity: 10,
      concurrency: 1,
      run: async (job) => {
        started.push(job);
        await g.opened;
      },
      onError: unexpected,
    });
    queue.offer("a1", "a");
    queue.offer("b1", "b");
    queue.offer("a2", "a");
    queue.offer("c1");
    queue.offer("b2", "b");
    assert.deepEqual(started, ["a1"]);
    assert.equal(queue.size, 3);
    g.open();
    await tick();
    await tick();
    await tick();
    assert.deepEqual(started, ["a1", "b2", "a2", "c1"]);
    await queue.close();
  });

  it("refuses jobs beyond its capacity without waiting", async () => {
    const g = gate();
    const queue = new WorkQueue<number>({ capacity: 2, concurrency: 1, run: () => g.opened, onError: unexpected });
    assert.deepEqual(
      [1, 2, 3, 4].map((i) => queue.offer(i)),
      [true, true, true, false],
    );
    g.open();
    await queue.close();
  });

  it("on close drops the waiting jobs, aborts the running ones and refuses new ones", async () => {
    const ran: number[] = [];
    let aborted = false;
    const queue = new WorkQueue<number>({
      capacity: 10,
      concurrency: 1,
      run: async (i, signal) => {
        ran.push(i);
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        aborted = signal.aborted;
      },
      onError: unexpected,
    });
    queue.offer(1);
    queue.offer(2);
    await queue.close();
    assert.deepEqual(ran, [1]);
    assert.equal(aborted, true);
    assert.equal(queue.offer(3), false);
  });

  it("tells a job's listener how it ended: run, superseded by a job that ran, or dropped or aborted at close", async () => {
    const g = gate();
    const outcomes = new Map<string, boolean>();
    const told = (name: string) => (ran: boolean) => outcomes.set(name, ran);
    const queue = new WorkQueue<string>({ capacity: 10, concurrency: 1, run: async (job) => void (job === "first" && (await g.opened)), onError: unexpected });
    queue.offer("first", undefined, told("first"));
    queue.offer("old", "k", told("old"));
    queue.offer("new", "k", told("new"));
    g.open();
    await tick();
    await tick();
    await tick();
    assert.deepEqual(Object.fromEntries(outcomes), { first: true, old: true, new: true }, "a superseded job is done when its replacement has run");

    const closing = new WorkQueue<string>({
      capacity: 10,
      concurrency: 1,
      run: (_, signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })),
      onError: unexpected,
    });
    closing.offer("running", undefined, told("running"));
    closing.offer("waiting", undefined, told("waiting"));
    await closing.close();
    assert.equal(outcomes.get("running"), false, "aborted by the close");
    assert.equal(outcomes.get("waiting"), false, "dropped by the close");
  });

  it("hands what a job throws to onError and keeps going", async () => {
    const errors: unknown[] = [];
    const queue = new WorkQueue<number>({ capacity: 10, concurrency: 1, run: async (i) => assert.ok(i !== 1, "boom"), onError: (err) => errors.push(err) });
    queue.offer(1);
    queue.offer(2);
    await tick();
    assert.equal(errors.length, 1);
    assert.equal(queue.size, 0);
    await queue.close();
  });
});

describe("ttl cache", () => {
  it("shares one lookup among concurrent misses and keeps it until it expires", async () => {
    let now = 0;
    let loads = 0;
    const cache = new TtlCache<string, number>({ ttlMs: 1_000, maxEntries: 10, now: () => now });
    const load = async () => ++loads;
    assert.deepEqual(await Promise.all([cache.get("a", load), cache.get("a", load)]), [1, 1]);
    now = 999;
    assert.equal(await cache.get("a", load), 1);
    now = 1_000;
    assert.equal(await cache.get("a", load), 2);
  });

  it("does not keep a failed lookup", async () => {
    const cache = new TtlCache<string, number>({ ttlMs: 1_000, maxEntries: 10 });
    await assert.rejects(cache.get("a", () => Promise.reject(new Error("account down"))));
    assert.equal(await cache.get("a", async () => 5), 5);
  });

  it("forgets the oldest entry beyond its size", async () => {
    let loads = 0;
    const cache = new TtlCache<string, number>({ ttlMs: 60_000, maxEntries: 2 });
    const load = async () => ++loads;
    await cache.get("a", load);
    await cache.get("b", load);
    await cache.get("c", load);
    assert.equal(await cache.get("b", load), 2);
    assert.equal(await cache.get("a", load), 4);
  });
});
