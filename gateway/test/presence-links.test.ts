import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { PresenceService, SessionEventKind, Status, UserPresenceSchema, type SessionsRequest } from "@parley/contracts/parley/presence/v1/presence";
import { Owners, type ServiceInstance } from "@parley/mesh";
import { createLogger } from "@parley/runtime";
import { until } from "@parley/testkit";
import { singleInstance } from "@parley/mesh";
import { PresenceLinks } from "../src/adapters/presence-links.js";

const silent = createLogger("test", "silent");
const A = "10.0.0.1:7005";
const B = "10.0.0.2:7005";
const users = Array.from({ length: 40 }, (_, i) => 5_000n + BigInt(i));

/** A fake presence instance: what reached it on Sessions (hellos and events, per stream) and on GetPresence. */
function fakePresence(address: string) {
  const seen = { streams: 0, hellos: [] as bigint[][], events: [] as string[], asked: [] as bigint[][] };
  const transport = createRouterTransport((router) =>
    router.service(PresenceService, {
      async *sessions(requests: AsyncIterable<SessionsRequest>) {
        seen.streams += 1;
        for await (const request of requests) {
          if (request.hello) seen.hellos.push(request.hello.sessions.map((s) => s.userId).sort());
          for (const e of request.events) seen.events.push(`${SessionEventKind[e.kind]}:${e.userId}`);
        }
      },
      getPresence(req) {
        seen.asked.push(req.userIds);
        // Answered in reverse, and A says online where B says offline, so the merge's order and source show.
        return {
          presences: [...req.userIds].reverse().map((userId) => create(UserPresenceSchema, { userId, status: address === A ? Status.ONLINE : Status.OFFLINE })),
        };
      },
    }),
  );
  return { seen, transport };
}

describe("presence links: one stream per presence instance, users shared by owner", () => {
  let links: PresenceLinks | undefined;
  afterEach(() => links?.close());

  function setup(initial: string[], held: bigint[]) {
    const instances = new Map([A, B].map((address) => [address, fakePresence(address)]));
    let registered: ServiceInstance[] = initial.map((address) => ({ address, draining: false }));
    links = new PresenceLinks(
      { current: () => registered, transport: (address) => instances.get(address)!.transport },
      "g1",
      () => held.map((userId) => ({ userId, deviceId: 1n })),
      () => {},
      1_000,
      silent,
    );
    links.connect();
    return { instances, setRegistered: (addresses: string[]) => (registered = addresses.map((address) => ({ address, draining: false }))) };
  }

  it("says hello to each instance with only the sessions of the users it owns, and sends each event to its user's owner", async () => {
    const { instances } = setup([A, B], users);
    const owners = new Owners([A, B].map((address) => ({ address, draining: false })));
    for (const address of [A, B]) {
      await until(() => instances.get(address)!.seen.hellos.length === 1, `${address}'s hello`);
      assert.deepEqual(instances.get(address)!.seen.hellos[0], users.filter((u) => owners.of(u) === address).sort());
    }
    for (const userId of users.slice(0, 10)) links!.connected(userId, 1n);
    await until(() => instances.get(A)!.seen.events.length + instances.get(B)!.seen.events.length === 10, "the ten events");
    for (const userId of users.slice(0, 10)) {
      assert.ok(instances.get(owners.of(userId)!)!.seen.events.includes(`CONNECTED:${userId}`), `${userId}'s event missed its owner`);
    }
  });

  it("asks each user's owner for getPresence and merges the answers in the order asked, once per user", async () => {
    const { instances } = setup([A, B], []);
    const owners = new Owners([A, B].map((address) => ({ address, draining: false })));
    const asked = [...users.slice(0, 12), users[3]!];
    const answer = await links!.getPresence(7n, asked);
    assert.deepEqual(
      answer.map((p) => p.userId),
      users.slice(0, 12),
    );
    for (const p of answer) assert.equal(p.status, owners.of(p.userId) === A ? Status.ONLINE : Status.OFFLINE, `${p.userId} answered by a non-owner`);
    assert.equal(instances.get(A)!.seen.asked.length + instances.get(B)!.seen.asked.length, 2, "one call per owner");
  });

  it("re-shares sessions on the open streams when an instance joins: a fresh hello to each instance whose share changed", async () => {
    const { instances, setRegistered } = setup([A], users);
    await until(() => instances.get(A)!.seen.hellos.length === 1, "A's hello");
    assert.equal(instances.get(A)!.seen.hellos[0]!.length, users.length, "A alone owns everyone");
    setRegistered([A, B]);
    const owners = new Owners([A, B].map((address) => ({ address, draining: false })));
    await until(() => instances.get(A)!.seen.hellos.length === 2 && instances.get(B)!.seen.hellos.length === 1, "A's second hello and B's first");
    assert.deepEqual(instances.get(A)!.seen.hellos[1], users.filter((u) => owners.of(u) === A).sort());
    assert.deepEqual(instances.get(B)!.seen.hellos[0], users.filter((u) => owners.of(u) === B).sort());
    assert.equal(instances.get(A)!.seen.streams, 1, "A's stream was reopened instead of re-announced on");
  });

  it("keeps exactly one link, owning everyone, in one process", async () => {
    const only = fakePresence(A);
    links = new PresenceLinks(
      singleInstance(only.transport),
      "g1",
      () => users.map((userId) => ({ userId, deviceId: 1n })),
      () => {},
      1_000,
      silent,
    );
    links.connect();
    await until(() => only.seen.hellos.length === 1, "the hello");
    assert.equal(only.seen.hellos[0]!.length, users.length);
    assert.equal((await links.getPresence(7n, users.slice(0, 5))).length, 5);
    assert.equal(only.seen.asked.length, 1);
  });
});
