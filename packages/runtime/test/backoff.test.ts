import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelayMs, JitteredBackoff, retryWithBackoff } from "../src/backoff.js";

class Unreachable extends Error {}

describe("backoff", () => {
  it("doubles from the initial delay up to the cap, with equal jitter", () => {
    const options = { initialMs: 100, maxMs: 1000 };
    const low = [0, 1, 2, 3, 4, 10, 100].map((n) => backoffDelayMs(n, { ...options, random: () => 0 }));
    const high = [0, 1, 2, 3, 4, 10, 100].map((n) => backoffDelayMs(n, { ...options, random: () => 0.999999 }));
    assert.deepEqual(low, [50, 100, 200, 400, 500, 500, 500]);
    assert.deepEqual(high, [100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it("waits whole milliseconds", () => {
    // Chat's copy returned fractions (3.75 here); timers count whole milliseconds anyway.
    assert.equal(backoffDelayMs(0, { initialMs: 5, maxMs: 5, random: () => 0.5 }), 4);
  });

  it("keeps a zero initial delay at zero however many attempts failed, never NaN", () => {
    assert.equal(backoffDelayMs(5_000, { initialMs: 0, maxMs: 1000, random: () => 0.5 }), 0);
  });

  it("keeps real random delays between half the window and all of it", () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(1000, 100 * 2 ** attempt);
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelayMs(attempt, { initialMs: 100, maxMs: 1000 });
        assert.ok(delay >= ceiling / 2 && delay <= ceiling, `attempt ${attempt}: ${delay}`);
      }
    }
  });

  it("retries retryable failures with growing, capped waits until it succeeds", async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await retryWithBackoff(
      async () => {
        if (++calls < 6) throw new Unreachable();
        return "ok";
      },
      {
        initialMs: 100,
        maxMs: 400,
        deadlineMs: 60_000,
        retryable: (e) => e instanceof Unreachable,
        random: () => 0.5,
        sleep: async (ms) => void waits.push(ms),
      },
    );
    assert.equal(result, "ok");
    assert.deepEqual(waits, [75, 150, 300, 300, 300]);
  });

  it("rethrows a non-retryable failure at once", async () => {
    let calls = 0;
    await assert.rejects(
      retryWithBackoff(
        async () => {
          calls++;
          throw new TypeError("all ids taken");
        },
        { initialMs: 1, maxMs: 1, deadlineMs: 60_000, retryable: (e) => e instanceof Unreachable },
      ),
      TypeError,
    );
    assert.equal(calls, 1);
  });

  it("gives up with the last error once the deadline has passed", async () => {
    let now = 0;
    const notified: number[] = [];
    await assert.rejects(
      retryWithBackoff(
        async () => {
          throw new Unreachable("still down");
        },
        {
          initialMs: 1000,
          maxMs: 4000,
          deadlineMs: 10_000,
          retryable: () => true,
          random: () => 0.999999,
          now: () => now,
          sleep: async (ms) => {
            now += ms;
          },
          onRetry: (_err, attempt) => notified.push(attempt),
        },
      ),
      /still down/,
    );
    assert.equal(now, 10_000, "never waits past the deadline");
    assert.deepEqual(notified, [1, 2, 3, 4]);
  });

  it("gives etcd3 a watch backoff capped at its maximum", () => {
    let backoff = new JitteredBackoff({ initialMs: 100, maxMs: 2000 });
    for (let i = 0; i < 20; i++) backoff = backoff.next();
    assert.ok(backoff.duration >= 1000 && backoff.duration <= 2000, String(backoff.duration));
  });
});
