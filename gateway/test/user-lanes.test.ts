import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserLane, UserLanes, type LaneMember } from "../src/domain/user-lanes.js";

const limits = { framesPerSecond: 10, frameBurst: 10, maxInFlight: 2, maxQueued: 4 };

/** A socket whose requests finish when the test says so. */
class Member implements LaneMember<number> {
  readonly started: number[] = [];
  readonly finish = new Map<number, () => void>();
  paused = false;
  pauses = 0;
  execute(request: number): Promise<void> {
    this.started.push(request);
    return new Promise((resolve) => this.finish.set(request, resolve));
  }
  pause(): void {
    this.paused = true;
    this.pauses++;
  }
  resume(): void {
    this.paused = false;
  }
  async done(request: number): Promise<void> {
    this.finish.get(request)!();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("a user's lane on the gateway", () => {
  it("runs at most maxInFlight requests at once and the rest in arrival order as earlier ones finish", async () => {
    const lane = new UserLane<number>(limits);
    const a = new Member();
    const b = new Member();
    lane.submit(a, 1);
    lane.submit(b, 2);
    lane.submit(a, 3);
    lane.submit(b, 4);
    assert.deepEqual([a.started, b.started], [[1], [2]]);
    assert.equal(lane.queued, 2);
    await b.done(2);
    assert.deepEqual(a.started, [1, 3]);
    await a.done(1);
    assert.deepEqual(b.started, [2, 4]);
    assert.equal(lane.queued, 0);
  });

  it("pauses the socket that fills the queue, queues what it had already read, and resumes it when half empty", async () => {
    const lane = new UserLane<number>(limits);
    const m = new Member();
    for (let r = 1; r <= 6; r++) lane.submit(m, r);
    assert.equal(m.paused, true);
    lane.submit(m, 7); // already read from the socket when it paused: still queued, never refused
    assert.equal(lane.queued, 5);
    assert.equal(m.pauses, 1);
    await m.done(1);
    await m.done(2);
    assert.equal(m.paused, true, "3 still wait, more than half of 4");
    await m.done(3);
    assert.equal(m.paused, false);
    for (const r of [4, 5, 6, 7]) await m.done(r);
    assert.deepEqual(m.started, [1, 2, 3, 4, 5, 6, 7]);
  });

  it("keeps a user's lane, and its spent frame budget, after their last socket closes until the budget has refilled", () => {
    let now = 0;
    const lanes = new UserLanes<number>(limits, () => now);
    const lane = lanes.join(7n);
    for (let i = 0; i < 10; i++) assert.equal(lane.bucket.take(), true);
    lanes.leave(lane, new Member());
    lanes.sweep();
    assert.equal(lanes.join(7n), lane, "reconnecting finds the spent budget");
    assert.equal(lane.bucket.take(), false);
    lanes.leave(lane, new Member());
    now = 1_000;
    lanes.sweep();
    assert.notEqual(lanes.join(7n), lane);
    assert.equal(lanes.size, 1);
  });

  it("blocks a user closed for flooding for as long as a full budget takes to refill, and keeps the lane that long", () => {
    let now = 0;
    const lanes = new UserLanes<number>(limits, () => now);
    const lane = lanes.join(8n);
    lane.block();
    lanes.leave(lane, new Member());
    assert.equal(lane.blockedForMs, 1_000, "10 frames at 10 a second");
    now = 999;
    lanes.sweep();
    assert.equal(lanes.get(8n), lane);
    assert.equal(lane.blockedForMs, 1);
    now = 1_000;
    assert.equal(lane.blockedForMs, 0);
    lanes.sweep();
    assert.equal(lanes.get(8n), undefined);
  });
});
