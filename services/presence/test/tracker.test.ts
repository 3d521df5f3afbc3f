import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "@parley/testkit";
import { MemoryLastSeenStore } from "../src/adapters/memory-last-seen.js";
import type { LastSeenStore } from "../src/ports.js";
import { PresenceTracker, type StatusChange } from "../src/domain/tracker.js";

const GRACE = 30_000;
const TIMEOUT = 10_000;
const ALICE = 1001n;
const BOB = 1002n;
const PHONE = 1n;
const LAPTOP = 2n;

function setup(lastSeen: LastSeenStore = new MemoryLastSeenStore(), time = new FakeClock()) {
  const changes: StatusChange[] = [];
  const tracker = new PresenceTracker({
    clock: time,
    timers: time,
    graceMs: GRACE,
    heartbeatTimeoutMs: TIMEOUT,
    lastSeen,
    onChange: (change) => changes.push(change),
  });
  return { time, tracker, changes, lastSeen, t0: time.now() };
}

/** Advances in heartbeat-sized steps, heartbeating `keep` (gateway, user, device) at each step. */
function advanceWithHeartbeats(time: FakeClock, tracker: PresenceTracker, ms: number, keep: [string, bigint, bigint][]): void {
  for (let left = ms; left > 0; left -= 5_000) {
    time.advance(Math.min(5_000, left));
    for (const [gatewayId, userId, deviceId] of keep) tracker.heartbeat(gatewayId, userId, deviceId);
  }
}

describe("presence tracker", () => {
  it("emits online when a user's first device connects", async () => {
    const { tracker, changes, t0 } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    assert.deepEqual(changes, [{ userId: ALICE, status: "online", lastActiveAt: t0 }]);
    assert.deepEqual(await tracker.statuses([ALICE]), new Map([[ALICE, { online: true, lastActiveAt: t0 }]]));
    assert.equal(tracker.sessionCount, 1);
  });

  it("does not re-emit online when a second device connects", () => {
    const { tracker, changes } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    tracker.connect("gw-2", ALICE, LAPTOP);
    assert.equal(changes.length, 1);
    assert.deepEqual(tracker.devices([ALICE, BOB]), [
      { userId: ALICE, deviceId: PHONE, gatewayId: "gw-1" },
      { userId: ALICE, deviceId: LAPTOP, gatewayId: "gw-2" },
    ]);
  });

  it("keeps a user online when one of two devices leaves", () => {
    const { time, tracker, changes } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    tracker.connect("gw-1", ALICE, LAPTOP);
    assert.equal(tracker.disconnect("gw-1", ALICE, PHONE), true);
    advanceWithHeartbeats(time, tracker, GRACE * 3, [["gw-1", ALICE, LAPTOP]]);
    assert.deepEqual(
      changes.map((c) => c.status),
      ["online"],
    );
    assert.deepEqual(tracker.devices([ALICE]), [{ userId: ALICE, deviceId: LAPTOP, gatewayId: "gw-1" }]);
  });

  it("emits nothing when a device disconnects and reconnects within the grace period", async () => {
    const { time, tracker, changes } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    tracker.disconnect("gw-1", ALICE, PHONE);
    time.advance(GRACE - 1);
    assert.equal((await tracker.statuses([ALICE])).get(ALICE)?.online, true, "online through the grace period");
    tracker.connect("gw-2", ALICE, PHONE);
    advanceWithHeartbeats(time, tracker, GRACE * 2, [["gw-2", ALICE, PHONE]]);
    assert.deepEqual(
      changes.map((c) => c.status),
      ["online"],
    );
  });

  it("emits offline exactly graceMs after the last disconnect, with the disconnect time as lastActiveAt", async () => {
    const { time, tracker, changes, t0 } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    time.advance(3_000);
    tracker.disconnect("gw-1", ALICE, PHONE);
    time.advance(GRACE - 1);
    assert.equal(changes.length, 1);
    time.advance(1);
    assert.deepEqual(changes[1], { userId: ALICE, status: "offline", lastActiveAt: t0 + 3_000 });
    assert.equal(time.now(), t0 + 3_000 + GRACE);
    assert.deepEqual(await tracker.statuses([ALICE]), new Map([[ALICE, { online: false, lastActiveAt: t0 + 3_000 }]]));
    assert.deepEqual(tracker.devices([ALICE]), []);
  });

  it("counts missed heartbeats as a disconnect at the last heartbeat", () => {
    const { time, tracker, changes, t0 } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    time.advance(4_000);
    assert.equal(tracker.heartbeat("gw-1", ALICE, PHONE), true);
    time.advance(TIMEOUT + TIMEOUT / 2);
    assert.equal(tracker.sessionCount, 0, "the sweep removed the silent session");
    assert.equal(changes.length, 1, "grace still running");
    // The grace runs from the last heartbeat, not from when the sweep noticed.
    time.advance(t0 + 4_000 + GRACE - 1 - time.now());
    assert.equal(changes.length, 1);
    time.advance(1);
    assert.deepEqual(changes[1], { userId: ALICE, status: "offline", lastActiveAt: t0 + 4_000 });
  });

  it("keeps a heartbeating session alive past the heartbeat timeout", () => {
    const { time, tracker, changes } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    advanceWithHeartbeats(time, tracker, TIMEOUT * 10, [["gw-1", ALICE, PHONE]]);
    assert.equal(tracker.sessionCount, 1);
    assert.equal(changes.length, 1);
  });

  it("returns false for a heartbeat or disconnect of an unknown session and changes nothing", async () => {
    const { time, tracker, changes, t0 } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    time.advance(1_000);
    assert.equal(tracker.heartbeat("gw-1", ALICE, LAPTOP), false);
    assert.equal(tracker.heartbeat("gw-2", ALICE, PHONE), false);
    assert.equal(tracker.heartbeat("gw-1", BOB, PHONE), false);
    assert.equal(tracker.disconnect("gw-1", BOB, PHONE), false);
    assert.equal(tracker.sessionCount, 1);
    assert.equal(changes.length, 1);
    const statuses = await tracker.statuses([ALICE, BOB]);
    assert.deepEqual(statuses.get(ALICE), { online: true, lastActiveAt: t0 });
    assert.deepEqual(statuses.get(BOB), { online: false, lastActiveAt: undefined });
  });

  it("expires a lost gateway's sessions after the grace period, not at its heartbeat timeout", () => {
    const { time, tracker, changes, t0 } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    tracker.connect("gw-1", BOB, PHONE);
    tracker.connect("gw-2", BOB, LAPTOP);
    time.advance(2_000);
    tracker.heartbeat("gw-1", ALICE, PHONE);
    tracker.gatewayLost("gw-1");
    advanceWithHeartbeats(time, tracker, GRACE - 5_000, [["gw-2", BOB, LAPTOP]]);
    time.advance(4_999);
    tracker.heartbeat("gw-2", BOB, LAPTOP);
    assert.equal(tracker.sessionCount, 3, "no session expired during the gateway's grace");
    assert.equal(changes.length, 2);
    time.advance(1);
    assert.deepEqual(changes.slice(2), [{ userId: ALICE, status: "offline", lastActiveAt: t0 + 2_000 }]);
    assert.deepEqual(tracker.devices([ALICE, BOB]), [{ userId: BOB, deviceId: LAPTOP, gatewayId: "gw-2" }]);
  });

  it("keeps a lost gateway's sessions without any event when it says hello within the grace period", () => {
    const { time, tracker, changes } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    tracker.connect("gw-1", BOB, PHONE);
    tracker.gatewayLost("gw-1");
    time.advance(GRACE - 1);
    tracker.gatewayHello("gw-1", [
      { userId: ALICE, deviceId: PHONE },
      { userId: BOB, deviceId: PHONE },
    ]);
    advanceWithHeartbeats(time, tracker, GRACE * 3, [
      ["gw-1", ALICE, PHONE],
      ["gw-1", BOB, PHONE],
    ]);
    assert.deepEqual(
      changes.map((c) => c.status),
      ["online", "online"],
    );
    assert.equal(tracker.sessionCount, 2);
  });

  it("disconnects the sessions a gateway's hello no longer lists and connects the new ones", () => {
    const { time, tracker, changes } = setup();
    tracker.connect("gw-1", ALICE, PHONE);
    tracker.gatewayLost("gw-1");
    time.advance(1_000);
    tracker.gatewayHello("gw-1", [{ userId: BOB, deviceId: PHONE }]);
    assert.deepEqual(
      changes.map((c) => [c.userId, c.status]),
      [
        [ALICE, "online"],
        [BOB, "online"],
      ],
    );
    advanceWithHeartbeats(time, tracker, GRACE, [["gw-1", BOB, PHONE]]);
    assert.deepEqual(
      changes.slice(2).map((c) => [c.userId, c.status]),
      [[ALICE, "offline"]],
    );
  });

  it("brings users online from gateway hellos after a presence restart", async () => {
    const lastSeen = new MemoryLastSeenStore();
    const before = setup(lastSeen);
    before.tracker.connect("gw-1", ALICE, PHONE);
    await before.tracker.close();
    const { tracker, changes, t0 } = setup(lastSeen, before.time);
    tracker.gatewayHello("gw-1", [
      { userId: ALICE, deviceId: PHONE },
      { userId: ALICE, deviceId: LAPTOP },
      { userId: BOB, deviceId: PHONE },
    ]);
    assert.deepEqual(changes, [
      { userId: ALICE, status: "online", lastActiveAt: t0 },
      { userId: BOB, status: "online", lastActiveAt: t0 },
    ]);
    assert.equal(tracker.sessionCount, 3);
  });

  it("persists last seen on going offline and answers from the store for users not in memory", async () => {
    const lastSeen = new MemoryLastSeenStore();
    const first = setup(lastSeen);
    first.tracker.connect("gw-1", ALICE, PHONE);
    first.time.advance(7_000);
    first.tracker.disconnect("gw-1", ALICE, PHONE);
    first.time.advance(GRACE);
    await first.tracker.flush();
    assert.deepEqual(await lastSeen.load([ALICE]), new Map([[ALICE, first.t0 + 7_000]]));
    assert.deepEqual(await first.tracker.statuses([ALICE]), new Map([[ALICE, { online: false, lastActiveAt: first.t0 + 7_000 }]]));

    const restarted = setup(lastSeen, first.time);
    const statuses = await restarted.tracker.statuses([ALICE, BOB]);
    assert.deepEqual(statuses.get(ALICE), { online: false, lastActiveAt: first.t0 + 7_000 });
    assert.deepEqual(statuses.get(BOB), { online: false, lastActiveAt: undefined });
  });

  it("saves an online user's last seen at most once a minute", async () => {
    const saves: [bigint, number][] = [];
    const store = new MemoryLastSeenStore();
    const spy: LastSeenStore = {
      load: (ids) => store.load(ids),
      save: (userId, ms) => {
        saves.push([userId, ms]);
        return store.save(userId, ms);
      },
    };
    const { time, tracker, t0 } = setup(spy);
    tracker.connect("gw-1", ALICE, PHONE);
    advanceWithHeartbeats(time, tracker, 60_000, [["gw-1", ALICE, PHONE]]);
    await tracker.flush();
    assert.deepEqual(saves, [
      [ALICE, t0],
      [ALICE, t0 + 60_000],
    ]);
  });

  it("keeps working and reports the error when saving last seen fails", async () => {
    const errors: unknown[] = [];
    const time = new FakeClock();
    const changes: StatusChange[] = [];
    const tracker = new PresenceTracker({
      clock: time,
      timers: time,
      graceMs: GRACE,
      heartbeatTimeoutMs: TIMEOUT,
      lastSeen: { load: async () => new Map(), save: async () => Promise.reject(new Error("db down")) },
      onChange: (change) => changes.push(change),
      onPersistError: (err) => errors.push(err),
    });
    tracker.connect("gw-1", ALICE, PHONE);
    tracker.disconnect("gw-1", ALICE, PHONE);
    time.advance(GRACE);
    await tracker.flush();
    assert.deepEqual(
      changes.map((c) => c.status),
      ["online", "offline"],
    );
    assert.equal(errors.length, 2);
  });

  it("uses one sweep timer for many sessions and clears every timer on close", async () => {
    const { time, tracker } = setup();
    for (let user = 1n; user <= 1_000n; user++) tracker.connect("gw-1", user, PHONE);
    assert.equal(time.pendingTimers, 1);
    tracker.disconnect("gw-1", 1n, PHONE);
    tracker.gatewayLost("gw-1");
    assert.equal(time.pendingTimers, 3, "sweep, one grace timer, one lost-gateway timer");
    await tracker.close();
    assert.equal(time.pendingTimers, 0);
  });
});
