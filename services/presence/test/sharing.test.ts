import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Status, type PresenceUpdate } from "@parley/contracts/parley/presence/v1/presence";
import { createLogger } from "@parley/runtime";
import { FakeClock } from "@parley/testkit";
import { MemoryLastSeenStore } from "../src/adapters/memory-last-seen.js";
import { PresenceTracker } from "../src/domain/tracker.js";
import { PresenceHub } from "../src/hub.js";
import type { PeopleDirectory, PresencePeers, UserOwnership } from "../src/ports.js";

const silent = createLogger("test", "silent");
const GRACE = 30_000;
const ALICE = 1001n;
const BOB = 1002n;
const CAROL = 1003n;
const PHONE = 1n;

/** Ownership as a table the test edits; `move` changes it and tells every instance, as a registry change would. */
class TableOwnership {
  readonly table = new Map<bigint, string>();
  /** Instances whose lease is not confirmed (paused, cut off). */
  readonly fenced = new Set<string>();
  private readonly listeners: (() => void)[] = [];
  forInstance(self: string): UserOwnership {
    return {
      ownerOf: (userId) => this.table.get(userId),
      owns: (userId) => this.table.get(userId) === self,
      serving: () => !this.fenced.has(self),
      settled: (userId) => this.table.get(userId) === self && !this.fenced.has(self),
      onChange: (listener) => this.listeners.push(listener),
    };
  }
  move(userId: bigint, to: string): void {
    this.table.set(userId, to);
    for (const listener of this.listeners) listener();
  }
  fence(instance: string, fenced: boolean): void {
    if (fenced) this.fenced.add(instance);
    else this.fenced.delete(instance);
    for (const listener of this.listeners) listener();
  }
}

/** Two (or more) presence instances in one process, calling one another directly, with their gateways' updates recorded. */
function cluster(friends: [bigint, bigint][], hidden: bigint[] = []) {
  const time = new FakeClock();
  const ownership = new TableOwnership();
  const hubs = new Map<string, PresenceHub>();
  const trackers = new Map<string, PresenceTracker>();
  const relays: { from: string; to: string; userId: bigint }[] = [];
  const people: PeopleDirectory = {
    friendIds: async (userId) => friends.flatMap(([a, b]) => (a === userId ? [b] : b === userId ? [a] : [])),
    hiding: async (userIds) => new Set(userIds.filter((id) => hidden.includes(id))),
    hiddenFrom: async (_viewerId, userIds) => new Set(userIds.filter((id) => hidden.includes(id))),
  };
  /** Updates each gateway was sent, as "deviceId:userId:online|offline". */
  const seen = new Map<string, string[]>();
  const instance = (name: string) => {
    const peers: PresencePeers = {
      relay: (address, relay) => {
        relays.push({ from: name, to: address, userId: relay.presence.userId });
        hubs.get(address)!.relayed(relay.presence, relay.followerIds);
      },
      getPresence: (address, viewerId, userIds) => hubs.get(address)!.getPresence(viewerId, userIds),
    };
    const hub = new PresenceHub(people, silent, { ownership: ownership.forInstance(name), peers });
    const tracker = new PresenceTracker({
      clock: time,
      timers: time,
      graceMs: GRACE,
      heartbeatTimeoutMs: 3_600_000,
      lastSeen: new MemoryLastSeenStore(),
      onChange: (change) => void hub.publish(change),
    });
    hub.useTracker(tracker);
    hubs.set(name, hub);
    trackers.set(name, tracker);
    return hub;
  };
  const gateway = (name: string) => {
    const lines: string[] = [];
    seen.set(name, lines);
    return (update: PresenceUpdate) => {
      for (const deviceId of update.deviceIds) {
        lines.push(`${deviceId}:${update.presence!.userId}:${update.presence!.status === Status.ONLINE ? "online" : "offline"}`);
      }
    };
  };
  return { time, ownership, instance, gateway, seen, relays, trackers };
}

/** Lets the hubs' awaited lookups (friend lists, hiding, peers' answers) settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("presence shared between instances (an owner per user)", () => {
  it("tells a friend owned by another instance when a user comes online, through that instance", async () => {
    const c = cluster([[ALICE, BOB]]);
    const a = c.instance("A");
    const b = c.instance("B");
    c.ownership.table.set(ALICE, "A").set(BOB, "B");
    await b.gatewayHello("g2", [{ userId: BOB, deviceId: PHONE }], c.gateway("g2"));
    await a.gatewayHello("g1", [], c.gateway("g1"));
    await a.connected("g1", ALICE, PHONE);
    await settle();
    assert.ok(c.seen.get("g2")!.includes(`${PHONE}:${ALICE}:online`), `bob's phone was told ${c.seen.get("g2")}`);
    assert.deepEqual(
      c.relays.filter((r) => r.userId === ALICE).map((r) => `${r.from}->${r.to}`),
      ["A->B"],
    );
  });

  it("tells a connecting device its friends' statuses, asked from each friend's owner", async () => {
    const c = cluster([
      [BOB, ALICE],
      [BOB, CAROL],
    ]);
    const a = c.instance("A");
    const b = c.instance("B");
    c.ownership.table.set(ALICE, "A").set(BOB, "B").set(CAROL, "B");
    await a.gatewayHello("g1", [{ userId: ALICE, deviceId: PHONE }], c.gateway("g1"));
    await b.gatewayHello("g2", [], c.gateway("g2"));
    await b.connected("g2", BOB, PHONE);
    await settle();
    assert.deepEqual(c.seen.get("g2")!.sort(), [`${PHONE}:${ALICE}:online`, `${PHONE}:${CAROL}:offline`]);
  });

  it("forgets a user whose ownership moved away without telling anyone they went offline", async () => {
    const c = cluster([[ALICE, BOB]]);
    const a = c.instance("A");
    const b = c.instance("B");
    c.ownership.table.set(ALICE, "A").set(BOB, "B");
    await b.gatewayHello("g2", [{ userId: BOB, deviceId: PHONE }], c.gateway("g2"));
    await a.gatewayHello("g1", [{ userId: ALICE, deviceId: PHONE }], c.gateway("g1"));
    await settle();
    c.seen.get("g2")!.length = 0;
    c.ownership.move(ALICE, "B");
    assert.deepEqual(a.locate([ALICE]), [], "A still holds alice's sessions");
    assert.equal(c.trackers.get("A")!.sessionCount, 0);
    // The gateway's later hello to A no longer lists alice; her grace there would end in an "offline".
    a.gatewayRehello("g1", []);
    c.time.advance(GRACE * 2);
    await settle();
    assert.deepEqual(c.seen.get("g2"), [], "bob's phone was told something after alice moved");
  });

  it("does not publish the change of a user it does not own yet, and announces it once its view makes it the owner", async () => {
    const c = cluster([[ALICE, BOB]]);
    const a = c.instance("A");
    const b = c.instance("B");
    c.ownership.table.set(ALICE, "A").set(BOB, "A");
    await a.gatewayHello("g1", [{ userId: BOB, deviceId: PHONE }], c.gateway("g1"));
    // The gateway's view ran ahead of B's: alice's session reaches B while B still sees A as her owner.
    await b.gatewayHello("g2", [{ userId: ALICE, deviceId: PHONE }], c.gateway("g2"));
    await settle();
    assert.equal(c.relays.length, 0, "B published alice before owning her");
    c.ownership.move(ALICE, "B");
    await settle();
    assert.deepEqual(
      c.relays.map((r) => `${r.from}->${r.to}:${r.userId}`),
      [`B->A:${ALICE}`],
    );
    assert.ok(c.seen.get("g1")!.includes(`${PHONE}:${ALICE}:online`), "bob's phone was not told alice is online");
  });

  it("publishes nothing while its lease is not confirmed (a paused instance's users may be another's by now)", async () => {
    const c = cluster([[ALICE, BOB]]);
    const a = c.instance("A");
    const b = c.instance("B");
    c.ownership.table.set(ALICE, "A").set(BOB, "B");
    await b.gatewayHello("g2", [{ userId: BOB, deviceId: PHONE }], c.gateway("g2"));
    await a.gatewayHello("g1", [{ userId: ALICE, deviceId: PHONE }], c.gateway("g1"));
    await settle();
    c.seen.get("g2")!.length = 0;
    c.ownership.fence("A", true);
    // Resumed after a pause: alice's session timed out meanwhile, her grace is long over.
    a.disconnected("g1", ALICE, PHONE);
    c.time.advance(GRACE * 2);
    await settle();
    assert.deepEqual(c.seen.get("g2"), [], "a fenced instance told bob alice went offline");
    assert.deepEqual(b.unsettled([BOB]), []);
    assert.deepEqual(a.unsettled([ALICE]), [ALICE], "a fenced instance vouched for its users' devices");
  });

  it("never relays a user who hides their presence", async () => {
    const c = cluster([[ALICE, BOB]], [ALICE]);
    const a = c.instance("A");
    const b = c.instance("B");
    c.ownership.table.set(ALICE, "A").set(BOB, "B");
    await b.gatewayHello("g2", [{ userId: BOB, deviceId: PHONE }], c.gateway("g2"));
    await a.gatewayHello("g1", [{ userId: ALICE, deviceId: PHONE }], c.gateway("g1"));
    await settle();
    assert.deepEqual(
      c.relays.filter((r) => r.userId === ALICE),
      [],
    );
    assert.deepEqual(c.seen.get("g2"), [`${PHONE}:${ALICE}:offline`], "bob's phone must see hidden alice as offline");
  });
});
