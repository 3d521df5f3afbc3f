import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { JobStore } from "../src/ports.js";
import { at, email, type JobStoreFixture, LEASE, notification, sms, T0 } from "./job-store-fixtures.js";
import { describeJobStoreErase } from "./job-store-erase-contract.js";
import { describeJobStoreRules } from "./job-store-rules-contract.js";

export type { JobStoreFixture } from "./job-store-fixtures.js";

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
    describeJobStoreRules(() => store);
    describeJobStoreErase(() => store);
  });
}
