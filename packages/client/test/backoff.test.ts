import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Backoff, backoffDelay, backoffWindow } from "../src/backoff.js";

describe("backoff", () => {
  it("doubles the window from 250 ms and caps it at 30 s", () => {
    const windows = Array.from({ length: 10 }, (_, attempt) => backoffWindow(attempt, 250, 30_000));
    assert.deepEqual(windows, [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("stays at the cap however many attempts, without overflowing", () => {
    assert.equal(backoffWindow(5_000, 250, 30_000), 30_000);
    assert.equal(backoffDelay(5_000, { random: () => 0.5 }), 15_000);
  });

  it("draws the delay uniformly from [0, window): full jitter", () => {
    assert.equal(backoffDelay(3, { random: () => 0 }), 0);
    assert.equal(backoffDelay(3, { random: () => 0.5 }), 1_000);
    assert.equal(backoffDelay(3, { random: () => 0.999999 }), 1_999);
  });

  it("keeps real random delays within their window", () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(attempt);
        assert.ok(delay >= 0 && delay < backoffWindow(attempt, 250, 30_000), `attempt ${attempt}: ${delay}`);
      }
    }
  });

  it("honours other bounds", () => {
    assert.equal(backoffDelay(4, { initialMs: 10, maxMs: 100, random: () => 0.5 }), 50);
  });

  it("counts attempts, skips ahead when asked to slow down, and starts over after reset", () => {
    const backoff = new Backoff({ random: () => 0.5 });
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [125, 250, 500]);
    assert.equal(backoff.attempt, 3);
    backoff.atLeast(6);
    assert.equal(backoff.next(), 8_000);
    backoff.atLeast(2); // never backwards
    assert.equal(backoff.attempt, 7);
    backoff.reset();
    assert.equal(backoff.next(), 125);
  });
});
