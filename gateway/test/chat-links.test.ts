import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addressWeight, rendezvous } from "../src/adapters/chat-links.js";

const instances = ["10.0.0.1:7003", "10.0.0.2:7003", "10.0.0.3:7003"];
const pick = (userId: bigint, among: readonly string[]) => rendezvous(userId, among, addressWeight);
const users = Array.from({ length: 3_000 }, (_, i) => 1_000_000_000_000n + BigInt(i) * 7_919n);

/** How the gateway spreads users over chat instances (ChatLinks.choose uses exactly this). */
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
