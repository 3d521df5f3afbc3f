import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryDelayMs } from "../src/domain/retry-delay.js";

const backoff = { initialMs: 1_000, maxMs: 60_000 };

describe("retry delay", () => {
  it("waits base x 2^(n-1) after n failed attempts, jittered within its upper half", () => {
    const low = [1, 2, 3, 7, 8, 100].map((n) => retryDelayMs({ ...backoff, random: () => 0 }, n, undefined));
    const high = [1, 2, 3, 7, 8, 100].map((n) => retryDelayMs({ ...backoff, random: () => 0.999999 }, n, undefined));
    assert.deepEqual(low, [500, 1_000, 2_000, 30_000, 30_000, 30_000]);
    assert.deepEqual(high, [1_000, 2_000, 4_000, 60_000, 60_000, 60_000]);
  });

  it("honours a provider's longer Retry-After, and ignores a shorter one", () => {
    assert.equal(retryDelayMs({ ...backoff, random: () => 0 }, 1, 30_000), 30_000);
    assert.equal(retryDelayMs({ ...backoff, random: () => 0 }, 3, 100), 2_000);
  });

  it("caps a Retry-After at the maximum", () => {
    assert.equal(retryDelayMs({ ...backoff, random: () => 0 }, 1, 3_600_000), 60_000);
  });
});
