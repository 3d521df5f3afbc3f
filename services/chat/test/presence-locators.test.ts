import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import {
  DeviceSessionSchema,
  LocateDevicesStreamResponseSchema,
  PresenceService,
  type LocateDevicesStreamRequest,
} from "@parley/contracts/parley/presence/v1/presence";
import { Owners } from "@parley/mesh";
import { createLogger, DependencyUnavailable } from "@parley/runtime";
import { PresenceLocators } from "../src/adapters/presence-locators.js";

const silent = createLogger("test", "silent");
const A = "10.0.0.1:7005";
const B = "10.0.0.2:7005";
const registered = [A, B].map((address) => ({ address, draining: false }));
const owners = new Owners(registered);
const users = Array.from({ length: 30 }, (_, i) => 9_000n + BigInt(i));

/** A presence instance that places every user asked on a gateway named after itself, and records what it was asked. */
function fakePresence(address: string, down: () => boolean, unsettled: (userId: bigint) => boolean = () => false) {
  const asked: bigint[] = [];
  const transport = createRouterTransport((router) =>
    router.service(PresenceService, {
      async *locateDevicesStream(requests: AsyncIterable<LocateDevicesStreamRequest>) {
        if (down()) throw new ConnectError("down", Code.Unavailable);
        for await (const request of requests) {
          asked.push(...request.userIds);
          const sessions = request.userIds.map((userId) => create(DeviceSessionSchema, { userId, deviceId: 1n, gatewayId: `gw-of-${address}` }));
          yield create(LocateDevicesStreamResponseSchema, { requestId: request.requestId, sessions, unsettledUserIds: request.userIds.filter(unsettled) });
        }
      },
    }),
  );
  return { asked, transport };
}

describe("presence locators: a lookup stream per presence instance, users asked of their owner", () => {
  let locators: PresenceLocators | undefined;
  afterEach(() => locators?.close());

  it("asks each user's owner only for its users and merges the answers", async () => {
    const fakes = new Map([A, B].map((address) => [address, fakePresence(address, () => false)]));
    locators = new PresenceLocators({ current: () => registered, transport: (address) => fakes.get(address)!.transport }, { logger: silent });
    const found = await locators.locate(users);
    assert.equal(found.size, users.length);
    for (const userId of users) assert.equal(found.get(userId)![0]!.gatewayId, `gw-of-${owners.of(userId)}`);
    for (const address of [A, B]) assert.deepEqual(fakes.get(address)!.asked.sort(), users.filter((u) => owners.of(u) === address).sort());
  });

  it("fails only the lookups of users whose owner's stream is down", async () => {
    const fakes = new Map([A, B].map((address) => [address, fakePresence(address, () => address === B)]));
    locators = new PresenceLocators(
      { current: () => registered, transport: (address) => fakes.get(address)!.transport },
      { logger: silent, reopen: { initialMs: 10_000, maxMs: 10_000 } },
    );
    const ofA = users.find((u) => owners.of(u) === A)!;
    const ofB = users.find((u) => owners.of(u) === B)!;
    const [a, b] = await Promise.allSettled([locators.locate([ofA]), locators.locate([ofB])]);
    assert.equal(a.status, "fulfilled");
    assert.equal(b.status, "rejected");
    assert.ok((b as PromiseRejectedResult).reason instanceof DependencyUnavailable);
    assert.equal((await locators.locate([ofA])).get(ofA)?.[0]?.gatewayId, `gw-of-${A}`, "a lookup of A's user failed with B");
  });

  it("fails the lookup of a user presence calls unsettled (its owner just changed), not the others made in the same turn", async () => {
    const moving = users[0]!;
    const fakes = new Map(
      [A, B].map((address) => [
        address,
        fakePresence(
          address,
          () => false,
          (userId) => userId === moving,
        ),
      ]),
    );
    locators = new PresenceLocators({ current: () => registered, transport: (address) => fakes.get(address)!.transport }, { logger: silent });
    const sameOwner = users.find((u) => u !== moving && owners.of(u) === owners.of(moving))!;
    const [unsure, sure] = await Promise.allSettled([locators.locate([moving]), locators.locate([sameOwner])]);
    assert.equal(unsure.status, "rejected");
    assert.ok((unsure as PromiseRejectedResult).reason instanceof DependencyUnavailable);
    assert.equal(sure.status, "fulfilled");
  });
});
