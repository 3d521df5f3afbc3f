import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addressWeight, Owners, rendezvous } from "../src/rendezvous.js";

const instances = ["10.0.0.1:7003", "10.0.0.2:7003", "10.0.0.3:7003"];
const pick = (userId: bigint, among: readonly string[]) => rendezvous(userId, among, addressWeight);
const users = Array.from({ length: 3_000 }, (_, i) => 1_000_000_000_000n + BigInt(i) * 7_919n);

/** How the gateway spreads users over chat instances (ChatLinks.choose and Owners use exactly this). */
describe("rendezvous choice of a user's chat instance", () => {
  it("gives a user the same instance every time, whatever the order instances are listed in", () => {
    for (const user of users.slice(0, 100)) assert.equal(pick(user, instances), pick(user, [...instances].reverse()));
  });

  it("spreads users about evenly", () => {
    const counts = new Map<string, number>();
    for (const user of users) counts.set(pick(user, instances)!, (counts.get(pick(user, instances)!) ?? 0) + 1);
    assert.equal(counts.size, 3);
    for (const [address, count] of counts) assert.ok(count > 800 && count < 1_200, `${address} got ${count} of 3,000 users`);
  });

  it("moves only the users of an instance that goes away, and about a quarter of all users, each to the newcomer, when a fourth joins", () => {
    const before = new Map(users.map((user) => [user, pick(user, instances)]));
    const without = instances.slice(0, 2);
    for (const user of users) {
      if (before.get(user) !== instances[2]) assert.equal(pick(user, without), before.get(user), "a user of a surviving instance moved");
    }
    const joined = [...instances, "10.0.0.4:7003"];
    const moved = users.filter((user) => pick(user, joined) !== before.get(user));
    assert.ok(
      moved.every((user) => pick(user, joined) === "10.0.0.4:7003"),
      "a user moved between two old instances",
    );
    assert.ok(moved.length > 550 && moved.length < 950, `${moved.length} of 3,000 users moved to the new instance`);
  });

  it("spreads users whose ids differ only in their high bits", () => {
    const high = Array.from({ length: 300 }, (_, i) => (BigInt(i) << 40n) | 5n);
    assert.equal(new Set(high.map((user) => pick(user, instances))).size, 3);
  });

  it("has no choice among no instances", () => {
    assert.equal(pick(1n, []), undefined);
  });
});

describe("owners of users among a service's registered instances", () => {
  const registered = instances.map((address) => ({ address, draining: false }));

  it("gives each user the rendezvous choice among the instances that are not draining", () => {
    const owners = new Owners([...registered, { address: "10.0.0.9:7005", draining: true }]);
    for (const user of users.slice(0, 200)) assert.equal(owners.of(user), pick(user, instances));
    assert.ok(
      users.every((user) => owners.of(user) !== "10.0.0.9:7005"),
      "a draining instance owned a user",
    );
  });

  it("splits users by owner, keeping each group in the order asked", () => {
    const owners = new Owners(registered);
    const asked = users.slice(0, 50);
    const groups = owners.split(asked);
    assert.deepEqual([...groups.values()].flat().sort(), [...asked].sort());
    for (const [owner, group] of groups) {
      assert.deepEqual(
        group,
        asked.filter((user) => owners.of(user) === owner),
      );
    }
  });

  it("puts every user under undefined when no instance can own", () => {
    const owners = new Owners([{ address: "10.0.0.1:7005", draining: true }]);
    assert.deepEqual([...owners.split([1n, 2n])], [[undefined, [1n, 2n]]]);
  });

  it("compares snapshots by their owning instances, not by listing order or draining ones", () => {
    const a = new Owners(registered);
    assert.ok(a.sameAs(new Owners([...registered].reverse())));
    assert.ok(a.sameAs(new Owners([...registered, { address: "10.0.0.9:7005", draining: true }])));
    assert.ok(!a.sameAs(new Owners(registered.slice(1))));
  });
});
