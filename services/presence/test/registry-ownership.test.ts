import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Owners, type ServiceInstance } from "@parley/mesh";
import { createLogger } from "@parley/runtime";
import { RegistryOwnership, SETTLE_MS } from "../src/adapters/registry-ownership.js";

const silent = createLogger("test", "silent");
const SELF = "10.0.0.1:7005";
const OTHER = "10.0.0.2:7005";
const users = Array.from({ length: 200 }, (_, i) => 70_000n + BigInt(i));

describe("registry ownership: what a presence instance owns, from its view of the registry and its lease", () => {
  let ownership: RegistryOwnership | undefined;
  afterEach(() => ownership?.close());

  function setup(initial: string[]) {
    let registered: ServiceInstance[] = initial.map((address) => ({ address, draining: false }));
    let lease = true;
    let now = 1_000_000;
    let changes = 0;
    ownership = new RegistryOwnership(
      () => registered,
      () => lease,
      silent,
      () => now,
    );
    ownership.onChange(() => changes++);
    ownership.start(SELF);
    return {
      ownership,
      register: (addresses: string[]) => {
        registered = addresses.map((address) => ({ address, draining: false }));
        ownership!.refresh();
      },
      setLease: (held: boolean) => {
        lease = held;
        ownership!.refresh();
      },
      advance: (ms: number) => (now += ms),
      changes: () => changes,
    };
  }

  it("owns the users the rendezvous choice gives it, and nobody while it is not registered", () => {
    const t = setup([SELF, OTHER]);
    const owners = new Owners([SELF, OTHER].map((address) => ({ address, draining: false })));
    for (const user of users) assert.equal(t.ownership.owns(user), owners.of(user) === SELF);
    t.register([OTHER]);
    assert.ok(
      users.every((user) => !t.ownership.owns(user)),
      "owns users while out of the registry",
    );
  });

  it("calls a user gained from another instance unsettled for SETTLE_MS, and users it kept settled throughout", () => {
    const t = setup([SELF, OTHER]);
    t.advance(SETTLE_MS * 2);
    const kept = users.filter((user) => t.ownership.owns(user));
    const gained = users.filter((user) => !t.ownership.owns(user));
    t.register([SELF]);
    assert.ok(
      gained.every((user) => t.ownership.owns(user) && !t.ownership.settled(user)),
      "a gained user was settled at once",
    );
    assert.ok(
      kept.every((user) => t.ownership.settled(user)),
      "a kept user turned unsettled",
    );
    t.advance(SETTLE_MS + 1);
    assert.ok(
      gained.every((user) => t.ownership.settled(user)),
      "a gained user stayed unsettled",
    );
  });

  it("stops serving, and settles nobody, while its lease is not confirmed, and says so to its listeners", () => {
    const t = setup([SELF]);
    t.advance(SETTLE_MS * 2);
    const before = t.changes();
    t.setLease(false);
    assert.equal(t.ownership.serving(), false);
    assert.ok(users.every((user) => t.ownership.owns(user) && !t.ownership.settled(user)));
    assert.equal(t.changes(), before + 1, "listeners not told the instance stopped serving");
    t.setLease(true);
    assert.equal(t.ownership.serving(), true);
    assert.equal(t.changes(), before + 2, "listeners not told the instance serves again");
  });
});
