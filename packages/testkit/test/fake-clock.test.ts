import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../src/fake-clock.js";

describe("fake clock", () => {
  it("fires due timers in order, each at its own due time", () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.advance(19);
    assert.deepEqual(fired, ["a@10"]);
    clock.advance(1);
    assert.deepEqual(fired, ["a@10", "b@20", "c@20"]);
    assert.equal(clock.now(), 20);
  });

  it("fires timers set by timers within the same advance, and never cleared ones", () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 5), 5);
    const cleared = clock.setTimeout(() => fired.push(-1), 7);
    clock.clearTimeout(cleared);
    clock.advance(100);
    assert.deepEqual(fired, [10]);
    assert.equal(clock.pendingTimers, 0);
  });

  it("moves by each sleep and records it, firing the timers it passes", async () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 15);
    const { sleep } = clock; // injected on its own, as idgen takes it
    await sleep(10);
    await sleep(10);
    assert.equal(clock.now(), 20);
    assert.deepEqual(fired, [15]);
    assert.deepEqual(clock.slept, [10, 10]);
    assert.equal(clock.totalSlept(), 20);
  });

  it("records sleeps without moving while stuck, and steps back when set", async () => {
    const clock = new FakeClock(1_000);
    clock.stuck = true;
    await clock.sleep(50);
    assert.equal(clock.now(), 1_000);
    assert.deepEqual(clock.slept, [50]);
    clock.ms -= 300;
    assert.equal(clock.now(), 700);
  });
});
