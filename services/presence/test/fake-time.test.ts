import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeTime } from "./fake-time.js";

describe("fake time", () => {
  it("fires due timers in order, each at its own due time", () => {
    const time = new FakeTime(0);
    const fired: string[] = [];
    time.setTimeout(() => fired.push(`b@${time.now()}`), 20);
    time.setTimeout(() => fired.push(`a@${time.now()}`), 10);
    time.setTimeout(() => fired.push(`c@${time.now()}`), 20);
    time.advance(19);
    assert.deepEqual(fired, ["a@10"]);
    time.advance(1);
    assert.deepEqual(fired, ["a@10", "b@20", "c@20"]);
    assert.equal(time.now(), 20);
  });

  it("fires timers set by timers within the same advance, and never cleared ones", () => {
    const time = new FakeTime(0);
    const fired: number[] = [];
    time.setTimeout(() => time.setTimeout(() => fired.push(time.now()), 5), 5);
    const cleared = time.setTimeout(() => fired.push(-1), 7);
    time.clearTimeout(cleared);
    time.advance(100);
    assert.deepEqual(fired, [10]);
    assert.equal(time.pendingTimers, 0);
  });
});
