import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { createLogger, DependencyUnavailable } from "@parley/runtime";
import { until } from "@parley/testkit";
import { PresenceDeviceLocator } from "../src/adapters/presence-locator.js";
import { http2Presence, inProcessPresence, type PresenceFixture } from "./presence-fixture.js";

const silent = createLogger("test", process.env.PARLEY_TEST_LOG ?? "silent");
const FAST_REOPEN = { initialMs: 10, maxMs: 50 };
const device = (userId: bigint) => ({ userId, deviceId: 10_000n + userId });
const byId = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
const isOutage = (err: unknown) => err instanceof DependencyUnavailable && err.message === "the presence service is unavailable; retry";

for (const [name, startPresence] of [
  ["in process", inProcessPresence],
  ["over HTTP/2", http2Presence],
] as const) {
  describe(`presence device locator (${name})`, () => {
    let presence: PresenceFixture;
    let locator: PresenceDeviceLocator;
    const located = (userId: bigint) =>
      locator.locate([userId]).then(
        (found) => found.get(userId)?.length === 1,
        () => false,
      );

    beforeEach(async () => {
      presence = await startPresence();
      locator = new PresenceDeviceLocator(presence.transport, { logger: silent, reopen: FAST_REOPEN });
    });

    afterEach(async () => {
      await locator.close();
      await presence.close();
    });

    it("answers a lookup of 2,500 users whole, in requests of at most 1,000 (none dropped past the first 1,000)", async () => {
      const users = Array.from({ length: 2_500 }, (_, i) => BigInt(i + 1));
      await presence.connect(users.map(device));
      const found = await locator.locate([...users, 99_999n]);
      assert.equal(found.size, 2_500);
      assert.deepEqual(found.get(1n), [{ deviceId: 10_001n, gatewayId: "gw-1" }]);
      assert.deepEqual(found.get(2_500n), [{ deviceId: 12_500n, gatewayId: "gw-1" }]);
      assert.equal(found.has(99_999n), false, "a user with no device is absent");
      assert.deepEqual(presence.seen, [1_000, 1_000, 501], "2,501 users: the one without a device is asked for too");
    });

    it("sends the lookups of one turn as one request and gives each caller its own users", async () => {
      await presence.connect([device(1n), device(2n), device(3n), { userId: 3n, deviceId: 7n }]);
      const [one, two, oneAndThree] = await Promise.all([locator.locate([1n]), locator.locate([2n]), locator.locate([1n, 3n])]);
      assert.deepEqual([...one.keys()], [1n]);
      assert.deepEqual([...two.keys()], [2n]);
      assert.deepEqual([...oneAndThree.keys()].sort(byId), [1n, 3n]);
      assert.deepEqual(
        oneAndThree
          .get(3n)
          ?.map((d) => d.deviceId)
          .sort(byId),
        [7n, 10_003n],
      );
      assert.deepEqual(presence.seen, [3]);
    });

    it("keeps many rounds in flight on the one stream and matches each answer to its round", async () => {
      const users = Array.from({ length: 200 }, (_, i) => BigInt(i + 1));
      await presence.connect(users.map(device));
      const lookups: Promise<Map<bigint, unknown>>[] = [];
      for (const userId of users) {
        lookups.push(locator.locate([userId]));
        await new Promise((resolve) => setImmediate(resolve)); // the next lookup in a later turn
      }
      const answers = await Promise.all(lookups);
      for (const [i, found] of answers.entries()) assert.deepEqual([...found.keys()], [users[i]]);
      assert.equal(presence.seen.length, 200);
    });

    it("needs no request for a lookup of nobody", async () => {
      assert.equal((await locator.locate([])).size, 0);
      assert.deepEqual(presence.seen, []);
    });

    it("fails the lookups in flight with a dependency error when the stream dies", async () => {
      await presence.connect([device(1n)]);
      assert.equal(await located(1n), true);
      const release = presence.hold();
      const pending = locator.locate([1n]);
      await until(() => presence.seen.length === 2, "the lookup to reach presence");
      const failed = assert.rejects(pending, isOutage);
      await presence.stop();
      await failed;
      await assert.rejects(locator.locate([1n]), isOutage, "while presence is down lookups fail at once");
      release();
    });

    it("serves again after presence restarts mid-stream", async () => {
      await presence.connect([device(1n)]);
      assert.equal(await located(1n), true);
      await presence.stop();
      await assert.rejects(locator.locate([1n]), isOutage);
      await presence.start();
      await presence.connect([device(1n), device(2_000n)]);
      // Well within the 5 s round timeout: recovery comes from reopening, not from a stuck round timing out.
      await until(() => located(1n), "lookups to succeed after the restart", { timeoutMs: 2_000 });
      const found = await locator.locate(Array.from({ length: 2_000 }, (_, i) => BigInt(i + 1)));
      assert.deepEqual([...found.keys()].sort(byId), [1n, 2_000n]);
    });

    it("breaks and reopens the stream when a round goes unanswered too long", async () => {
      await locator.close();
      locator = new PresenceDeviceLocator(presence.transport, { logger: silent, reopen: FAST_REOPEN, timeoutMs: 100 });
      await presence.connect([device(1n)]);
      assert.equal(await located(1n), true, "a round answered in time leaves the stream up");
      const release = presence.hold();
      const askedAt = performance.now();
      await assert.rejects(locator.locate([1n]), isOutage);
      // One deadline timer serves every round: it must not break the stream for a round still in time.
      assert.ok(performance.now() - askedAt >= 100, "the unanswered round failed no sooner than its own 100 ms");
      release();
      await until(() => located(1n), "lookups to succeed on the reopened stream");
    });

    it("ends its stream cleanly on close, and refuses lookups after", async () => {
      await presence.connect([device(1n)]);
      assert.equal(await located(1n), true);
      await locator.close();
      assert.equal(presence.endedByCaller, 1, "the request side was half-closed, not cut");
      await assert.rejects(locator.locate([1n]), isOutage);
    });
  });
}
