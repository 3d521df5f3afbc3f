import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { JobStore, NewNotification } from "../src/ports.js";

export interface JobStoreFixture {
  store: JobStore;
  /** True when concurrent calls really run in parallel (separate sessions), not one after another. */
  concurrent: boolean;
  /** Empties the store, so each test starts from nothing without reopening the database. */
  reset(): Promise<void>;
  cleanup(): Promise<void>;
}

const T0 = new Date("2026-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
const LEASE = 30_000;

const USER = 9_007_199_254_740_993n;

function notification(
  eventId: string,
  deliveries: NewNotification["deliveries"] = [{ channel: "fcm", target: { channel: "fcm", token: "tok-1" }, deviceId: 7n }],
  more: Partial<NewNotification> = {},
): NewNotification {
  return {
    eventId,
    userId: USER,
    kind: "new_message",
    params: { conversation_id: "42", sender_name: "Ada" },
    collapseKey: "",
    badge: 3,
    fingerprint: `fp-${eventId}`,
    content: { title: "Ada", body: "hello", data: { conversation_id: "42" } },
    deliveries,
    ...more,
  };
}

const push = (deviceId: bigint) => ({ channel: "fcm", target: { channel: "fcm", token: `tok-${deviceId}` }, deviceId }) as const;

const email = { channel: "email", target: { channel: "email", address: "a@example.test" } } as const;
const sms = { channel: "sms", target: { channel: "sms", phone: "+15550100" } } as const;

/** The JobStore contract (see its doc comment), run against every adapter; each test starts from an empty store. */
export function describeJobStoreContract(name: string, open: () => Promise<JobStoreFixture>): void {
  describe(`job store contract (${name})`, () => {
    let fixture: JobStoreFixture;
    let store: JobStore;
    before(async () => {
      fixture = await open();
      store = fixture.store;
    });
    beforeEach(() => fixture.reset());
    after(() => fixture?.cleanup());

    describe("accept", () => {
      it("stores the notification and one pending delivery per target", async () => {
        const { notification: n, duplicate } = await store.accept(
          notification("e1", [{ channel: "fcm", target: { channel: "fcm", token: "tok-1" }, deviceId: 7n }, email]),
          T0,
        );
        assert.equal(duplicate, false);
        assert.equal(n.eventId, "e1");
        assert.equal(n.userId, 9_007_199_254_740_993n);
        assert.deepEqual(n.params, { conversation_id: "42", sender_name: "Ada" });
        assert.deepEqual([n.fingerprint, n.content, n.rateLimited], ["fp-e1", { title: "Ada", body: "hello", data: { conversation_id: "42" } }, false]);
        assert.equal(n.createdAt.getTime(), T0.getTime());
        const got = await store.get(n.id);
        assert.ok(got);
        assert.deepEqual(got.notification, n);
        assert.equal(got.deliveries.length, 2);
        const [push, mail] = got.deliveries;
        assert.deepEqual(push, {
          id: push!.id,
          notificationId: n.id,
          channel: "fcm",
          target: { channel: "fcm", token: "tok-1" },
          deviceId: 7n,
          state: "pending",
          attempts: 0,
          lastError: "",
          nextAttemptAt: T0,
        });
        assert.equal(mail!.channel, "email");
        assert.equal(mail!.deviceId, undefined);
        assert.deepEqual(mail!.target, email.target);
      });

      it("returns the first notification for a repeated event id and writes nothing", async () => {
        const first = await store.accept(notification("e1"), T0);
        const again = await store.accept(notification("e1", [email, sms]), at(1000));
        assert.equal(again.duplicate, true);
        assert.deepEqual(again.notification, first.notification);
        assert.equal((await store.get(first.notification.id))!.deliveries.length, 1);
        assert.deepEqual(await store.depth(), { fcm: 1 });
      });

      it("stores one notification for ten concurrent accepts of one event id", async () => {
        const results = await Promise.all(Array.from({ length: 10 }, () => store.accept(notification("race"), T0)));
        assert.equal(results.filter((r) => !r.duplicate).length, 1);
        assert.equal(new Set(results.map((r) => r.notification.id)).size, 1);
        assert.deepEqual(await store.depth(), { fcm: 1 });
      });

      it("stores skipped deliveries with their reason but never leases them", async () => {
        const { notification: n } = await store.accept(notification("e1", [{ ...email, state: "skipped", reason: "quiet hours" }, sms]), T0);
        const leased = await store.lease(at(1), 10, LEASE);
        assert.deepEqual(
          leased.map((l) => l.job.channel),
          ["sms"],
        );
        const skipped = (await store.get(n.id))!.deliveries.find((d) => d.channel === "email")!;
        assert.equal(skipped.state, "skipped");
        assert.equal(skipped.lastError, "quiet hours");
        assert.deepEqual(await store.depth(), { sms: 1 });
      });
    });

    describe("lease", () => {
      it("returns due pending jobs only, with their notification", async () => {
        const { notification: n } = await store.accept(notification("now"), T0);
        await store.accept(notification("later"), at(60_000));
        const leased = await store.lease(at(1000), 10, LEASE);
        assert.equal(leased.length, 1);
        assert.deepEqual(leased[0]!.notification, n);
        assert.equal(leased[0]!.job.state, "pending");
        assert.equal(leased[0]!.job.leaseUntil?.getTime(), at(1000 + LEASE).getTime());
      });

      it("respects the limit, due jobs first", async () => {
        await store.accept(notification("e1", [email, sms]), T0);
        await store.accept(notification("e2", [email]), at(10));
        const first = await store.lease(at(100), 2, LEASE);
        assert.equal(first.length, 2);
        assert.ok(first.every((l) => l.notification.eventId === "e1"));
        const rest = await store.lease(at(100), 2, LEASE);
        assert.deepEqual(
          rest.map((l) => l.notification.eventId),
          ["e2"],
        );
      });

      it("filters by channel so other channels stay queued", async () => {
        await store.accept(notification("e1", [email, sms]), T0);
        const leased = await store.lease(at(1), 10, LEASE, "sms");
        assert.deepEqual(
          leased.map((l) => l.job.channel),
          ["sms"],
        );
        assert.deepEqual(
          (await store.lease(at(1), 10, LEASE)).map((l) => l.job.channel),
          ["email"],
        );
      });

      it("does not hand out a leased job again until its lease expires", async () => {
        await store.accept(notification("e1"), T0);
        const [first] = await store.lease(at(1), 10, LEASE);
        assert.ok(first);
        assert.deepEqual(await store.lease(at(LEASE), 10, LEASE), []);
        const again = await store.lease(at(LEASE + 1), 10, LEASE);
        assert.deepEqual(
          again.map((l) => l.job.id),
          [first.job.id],
        );
      });

      it("hands out the earliest due job first, whatever the order the jobs were stored in", async () => {
        await store.accept(notification("retried", [sms]), T0);
        const [first] = await store.lease(at(1), 10, LEASE);
        await store.markFailed(first!.job.id, "503", at(50), false);
        await store.accept(notification("fresh", [email]), at(10));
        const leased = await store.lease(at(100), 10, LEASE);
        assert.deepEqual(
          leased.map((l) => l.notification.eventId),
          ["fresh", "retried"],
        );
      });

      it("never gives two concurrent callers the same job", async () => {
        const deliveries = Array.from({ length: 20 }, (_, i) => ({ channel: "sms", target: { channel: "sms", phone: `+1555${i}` } }) as const);
        await store.accept(notification("many", deliveries), T0);
        const batches = await Promise.all(Array.from({ length: 4 }, () => store.lease(at(1), 8, LEASE)));
        const ids = batches.flat().map((l) => l.job.id);
        assert.equal(new Set(ids).size, ids.length);
        if (!fixture.concurrent) assert.equal(ids.length, 20);
        assert.ok(ids.length <= 20);
      });
    });

    describe("marking", () => {
      it("markSent records the attempt, clears the lease and leaves the queue", async () => {
        const { notification: n } = await store.accept(notification("e1"), T0);
        const [l] = await store.lease(at(1), 10, LEASE);
        await store.markSent(l!.job.id, at(2));
        const [job] = (await store.get(n.id))!.deliveries;
        assert.equal(job!.state, "sent");
        assert.equal(job!.attempts, 1);
        assert.equal(job!.leaseUntil, undefined);
        assert.deepEqual(await store.lease(at(LEASE * 10), 10, LEASE), []);
        assert.deepEqual(await store.depth(), {});
      });

      it("markFailed without dead retries the job at nextAttemptAt", async () => {
        const { notification: n } = await store.accept(notification("e1"), T0);
        const [l] = await store.lease(at(1), 10, LEASE);
        await store.markFailed(l!.job.id, "503 unavailable", at(5000), false);
        const [job] = (await store.get(n.id))!.deliveries;
        assert.deepEqual([job!.state, job!.attempts, job!.lastError, job!.leaseUntil], ["pending", 1, "503 unavailable", undefined]);
        assert.equal(job!.nextAttemptAt.getTime(), at(5000).getTime());
        assert.deepEqual(await store.lease(at(4999), 10, LEASE), []);
        assert.deepEqual(
          (await store.lease(at(5000), 10, LEASE)).map((x) => x.job.id),
          [l!.job.id],
        );
      });

      it("markFailed with dead parks the job in the dead letters", async () => {
        await store.accept(notification("e1"), T0);
        const [l] = await store.lease(at(1), 10, LEASE);
        await store.markFailed(l!.job.id, "400 bad request", at(5000), true);
        assert.deepEqual(await store.lease(at(LEASE * 10), 10, LEASE), []);
        const dead = await store.listDead(10);
        assert.deepEqual(
          dead.map((d) => [d.id, d.state, d.attempts, d.lastError]),
          [[l!.job.id, "dead", 1, "400 bad request"]],
        );
        assert.deepEqual(await store.depth(), {});
      });

      it("ignores a late mark on a job that is no longer pending", async () => {
        await store.accept(notification("e1"), T0);
        const [l] = await store.lease(at(1), 10, LEASE);
        await store.markFailed(l!.job.id, "gone", at(2), true);
        await store.markSent(l!.job.id, at(3));
        await store.markFailed(l!.job.id, "again", at(4), false);
        assert.deepEqual(
          (await store.listDead(10)).map((d) => [d.state, d.attempts, d.lastError]),
          [["dead", 1, "gone"]],
        );
      });
    });

    describe("dead letters", () => {
      async function killAll(count: number): Promise<bigint[]> {
        const deliveries = Array.from(
          { length: count },
          (_, i) => ({ channel: "email", target: { channel: "email", address: `u${i}@example.test` } }) as const,
        );
        await store.accept(notification("dead", deliveries), T0);
        const leased = await store.lease(at(1), count, LEASE);
        for (const l of leased) await store.markFailed(l.job.id, "boom", at(2), true);
        return leased.map((l) => l.job.id).sort((a, b) => (a < b ? -1 : 1));
      }

      it("lists dead jobs oldest first, up to the limit", async () => {
        const ids = await killAll(3);
        assert.deepEqual(
          (await store.listDead(2)).map((d) => d.id),
          ids.slice(0, 2),
        );
      });

      it("retries the listed dead jobs now with attempts reset", async () => {
        const ids = await killAll(3);
        assert.equal(await store.retryDead([ids[0]!, 999_999n], at(100)), 1);
        assert.deepEqual(
          (await store.listDead(10)).map((d) => d.id),
          ids.slice(1),
        );
        const leased = await store.lease(at(100), 10, LEASE);
        assert.deepEqual(
          leased.map((l) => [l.job.id, l.job.attempts, l.job.state]),
          [[ids[0], 0, "pending"]],
        );
        assert.equal(leased[0]!.job.nextAttemptAt.getTime(), at(100).getTime());
      });

      it("retries every dead job when no ids are given", async () => {
        await killAll(3);
        assert.equal(await store.retryDead(undefined, at(100)), 3);
        assert.deepEqual(await store.listDead(10), []);
        assert.deepEqual(await store.depth(), { email: 3 });
      });
    });

    describe("get and depth", () => {
      it("returns undefined for an unknown notification", async () => {
        assert.equal(await store.get(123_456n), undefined);
      });

      it("counts pending jobs per channel, leased ones included", async () => {
        assert.deepEqual(await store.depth(), {});
        await store.accept(notification("e1", [email, sms, { ...sms, state: "skipped" }]), T0);
        await store.accept(notification("e2", [email]), T0);
        await store.lease(at(1), 1, LEASE, "email");
        assert.deepEqual(await store.depth(), { email: 2, sms: 1 });
      });
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
