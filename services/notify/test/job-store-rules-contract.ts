import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { JobStore } from "../src/ports.js";
import { at, email, LEASE, notification, push, sms, T0, USER } from "./job-store-fixtures.js";

/**
 * The JobStore contract's rules beyond the queue itself: the per-user rate limit, collapsing by
 * key, rejection, listing and tracking. Runs inside describeJobStoreContract, on its store.
 */
export function describeJobStoreRules(current: () => JobStore): void {
  let store: JobStore;
  describe("rules", () => {
    before(() => {
      store = current();
    });
    describe("rate limit", () => {
      const limit = { max: 2, windowMs: 60_000 };

      it("skips every delivery of a notification past the user's limit and marks it rate limited", async () => {
        await store.accept(notification("r1"), T0, limit);
        await store.accept(notification("r2"), at(1000), limit);
        const { notification: n } = await store.accept(notification("r3", [push(7n), email]), at(2000), limit);
        assert.equal(n.rateLimited, true);
        const got = (await store.get(n.id))!;
        assert.deepEqual(
          got.deliveries.map((d) => [d.state, d.lastError]),
          [
            ["skipped", "rate limited"],
            ["skipped", "rate limited"],
          ],
        );
        assert.deepEqual(await store.depth(), { fcm: 2 });
      });

      it("counts only the window and only notifications that were not limited", async () => {
        await store.accept(notification("r1"), T0, limit);
        await store.accept(notification("r2"), at(1000), limit);
        assert.equal((await store.accept(notification("r3"), at(2000), limit)).notification.rateLimited, true);
        assert.equal((await store.accept(notification("r4"), at(60_001), limit)).notification.rateLimited, false);
        assert.equal((await store.accept(notification("r5"), at(60_500), limit)).notification.rateLimited, true);
      });

      it("limits each user on their own", async () => {
        await store.accept(notification("a1"), T0, limit);
        await store.accept(notification("a2"), T0, limit);
        const other = await store.accept(notification("b1", undefined, { userId: 5n }), T0, limit);
        assert.equal(other.notification.rateLimited, false);
      });

      it("holds under concurrent accepts for one user", async () => {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.accept(notification(`c${i}`), T0, limit)));
        assert.equal(results.filter((r) => !r.notification.rateLimited).length, 2);
      });
    });

    describe("collapse", () => {
      it("skips older unleased pending deliveries with the same key, channel and device", async () => {
        const first = await store.accept(notification("k1", [push(7n), push(8n), email], { collapseKey: "conv-42" }), T0);
        const second = await store.accept(notification("k2", [push(7n)], { collapseKey: "conv-42" }), at(10));
        const old = (await store.get(first.notification.id))!.deliveries;
        assert.deepEqual(
          old.map((d) => [d.deviceId, d.state, d.lastError]),
          [
            [7n, "skipped", `superseded by notification ${second.notification.id}`],
            [8n, "pending", ""],
            [undefined, "pending", ""],
          ],
        );
        assert.deepEqual(await store.depth(), { fcm: 2, email: 1 });
      });

      it("collapses deliveries without a device (email) like those of one device", async () => {
        const first = await store.accept(notification("m1", [email, push(7n)], { collapseKey: "digest" }), T0);
        const second = await store.accept(notification("m2", [email], { collapseKey: "digest" }), at(10));
        const old = (await store.get(first.notification.id))!.deliveries;
        assert.deepEqual(
          old.map((d) => [d.channel, d.state, d.lastError]),
          [
            ["email", "skipped", `superseded by notification ${second.notification.id}`],
            ["fcm", "pending", ""],
          ],
        );
      });

      it("leaves a leased delivery to its worker and other keys and users alone", async () => {
        await store.accept(notification("k1", [push(7n)], { collapseKey: "conv-42" }), T0);
        const [leased] = await store.lease(at(1), 10, LEASE);
        await store.accept(notification("k2", [push(8n)], { collapseKey: "conv-42" }), at(2));
        await store.accept(notification("k3", [push(8n)], { collapseKey: "conv-43" }), at(3));
        await store.accept(notification("k4", [push(8n)], { collapseKey: "conv-42", userId: 5n }), at(4));
        await store.accept(notification("k5", [push(7n)], { collapseKey: "conv-42" }), at(5));
        const states = (await store.listForUser(USER, 10)).map((x) => [x.notification.eventId, x.deliveries[0]!.state]);
        assert.deepEqual(states, [
          ["k5", "pending"],
          ["k3", "pending"],
          ["k2", "pending"],
          ["k1", "pending"],
        ]);
        assert.ok(leased);
      });
    });

    describe("rejection, listing and tracking", () => {
      it("markRejected ends the job without a dead letter", async () => {
        const { notification: n } = await store.accept(notification("e1"), T0);
        const [l] = await store.lease(at(1), 10, LEASE);
        await store.markRejected(l!.job.id, "unregistered");
        const [job] = (await store.get(n.id))!.deliveries;
        assert.deepEqual([job!.state, job!.attempts, job!.lastError, job!.leaseUntil], ["rejected", 1, "unregistered", undefined]);
        assert.deepEqual(await store.listDead(10), []);
        assert.deepEqual(await store.lease(at(LEASE * 10), 10, LEASE), []);
      });

      it("lists a user's notifications newest first with their deliveries, up to the limit", async () => {
        await store.accept(notification("l1", [email]), T0);
        await store.accept(notification("l2", [email, sms]), at(1));
        await store.accept(notification("l3", [sms]), at(2));
        await store.accept(notification("other", [sms], { userId: 5n }), at(3));
        const listed = await store.listForUser(USER, 2);
        assert.deepEqual(
          listed.map((x) => [x.notification.eventId, x.deliveries.map((d) => d.channel)]),
          [
            ["l3", ["sms"]],
            ["l2", ["email", "sms"]],
          ],
        );
        assert.deepEqual(await store.listForUser(123n, 10), []);
      });

      it("records tracked events once and refuses unknown notifications", async () => {
        const { notification: n } = await store.accept(notification("t1"), T0);
        assert.equal(await store.track(n.id, 7n, "delivered", at(1)), true);
        assert.equal(await store.track(n.id, 7n, "delivered", at(2)), true);
        assert.equal(await store.track(n.id, 7n, "opened", at(3)), true);
        assert.equal(await store.track(999_999n, 7n, "opened", at(3)), false);
      });
    });
  });
}
