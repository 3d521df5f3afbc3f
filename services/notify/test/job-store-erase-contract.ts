import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ERASED, type JobStore, type NewNotification } from "../src/ports.js";
import { at, email, LEASE, notification, push, sms, T0 } from "./job-store-fixtures.js";

/** A new-message notification whose params and body hold the message text. */
const withText = (eventId: string, deliveries: NewNotification["deliveries"] = [push(7n)], more: Partial<NewNotification> = {}) =>
  notification(eventId, deliveries, {
    params: { conversation_id: "42", sender_name: "Ada", preview: "the secret plan" },
    content: { title: "Ada", body: "the secret plan", data: { conversation_id: "42" } },
    ...more,
  });

const ERASED_CONTENT = { title: "Ada", body: ERASED.body, data: { conversation_id: "42" } };

/** The JobStore contract's Erase (see the port's doc comment). Runs inside describeJobStoreContract, on its store. */
export function describeJobStoreErase(current: () => JobStore): void {
  let store: JobStore;
  describe("erase", () => {
    before(() => {
      store = current();
    });

    it("removes the text from params and content, replaces the fingerprint, and skips the pending and dead deliveries as erased", async () => {
      const { notification: n } = await store.accept(withText("m1", [push(7n), push(8n), email, sms]), T0);
      const [sent, dead, , rejected] = (await store.get(n.id))!.deliveries;
      await store.lease(T0, 10, LEASE);
      await store.markSent(sent!.id, at(1));
      await store.markFailed(dead!.id, "HTTP 503", at(2), true);
      await store.markRejected(rejected!.id, "bad phone");
      // The email job stays leased: a worker holds it.

      assert.equal(await store.erase(["m1"], at(10)), 1);
      const got = (await store.get(n.id))!;
      assert.deepEqual(got.notification.params, { conversation_id: "42", sender_name: "Ada" });
      assert.deepEqual(got.notification.content, ERASED_CONTENT);
      assert.equal(got.notification.fingerprint, ERASED.fingerprint);
      assert.doesNotMatch(JSON.stringify([got.notification.params, got.notification.content]), /secret/);
      assert.deepEqual(
        got.deliveries.map((d) => [d.state, d.lastError]),
        [
          ["sent", ""],
          ["skipped", "erased"],
          ["skipped", "erased"],
          ["rejected", "bad phone"],
        ],
      );
      assert.deepEqual(await store.depth(), {});
      assert.deepEqual(await store.listDead(10), []);
      assert.equal(await store.retryDead(undefined, at(20)), 0, "an erased delivery never goes back to the queue");
      // The worker that held the email job reports late: its mark changes nothing.
      await store.markFailed(got.deliveries[2]!.id, "timeout", at(30), false);
      assert.deepEqual(await store.lease(at(LEASE * 2), 10, LEASE), []);
      assert.equal((await store.get(n.id))!.deliveries[2]!.state, "skipped");
    });

    it("is idempotent, counts only the ids that name a notification, and leaves other notifications alone", async () => {
      const { notification: a } = await store.accept(withText("m1"), T0);
      const { notification: b } = await store.accept(withText("m2", [push(8n)]), T0);
      assert.equal(await store.erase(["m1", "m1", "nobody:1"], at(1)), 1);
      const once = await store.get(a.id);
      assert.equal(await store.erase(["m1"], at(2)), 1);
      assert.deepEqual(await store.get(a.id), once);
      const other = (await store.get(b.id))!;
      assert.equal(other.notification.params.preview, "the secret plan");
      assert.deepEqual(
        other.deliveries.map((d) => d.state),
        ["pending"],
      );
    });

    it("stores a notification whose event id was erased before it arrived erased, with every delivery skipped and nothing collapsed", async () => {
      const { notification: older } = await store.accept(withText("m0", [push(7n)], { collapseKey: "conversation:42" }), T0);
      assert.equal(await store.erase(["m1"], at(1)), 0);
      const late = await store.accept(withText("m1", [push(7n), email], { collapseKey: "conversation:42" }), at(2));
      assert.equal(late.duplicate, false);
      assert.deepEqual(late.notification.params, { conversation_id: "42", sender_name: "Ada" });
      assert.deepEqual(late.notification.content, ERASED_CONTENT);
      assert.equal(late.notification.fingerprint, ERASED.fingerprint);
      assert.deepEqual(
        (await store.get(late.notification.id))!.deliveries.map((d) => [d.state, d.lastError]),
        [
          ["skipped", "erased"],
          ["skipped", "erased"],
        ],
      );
      assert.equal((await store.get(older.id))!.deliveries[0]!.state, "pending", "an erased notification supersedes nothing");
      assert.deepEqual(await store.depth(), { fcm: 1 });
      // A retry of the same Send is a repeat of the stored one.
      const again = await store.accept(withText("m1"), at(3));
      assert.equal(again.duplicate, true);
      assert.equal(again.notification.id, late.notification.id);
      // The mark was used up: it does not make a later notification's deliveries vanish.
      assert.equal((await store.accept(withText("m9"), at(4))).notification.params.preview, "the secret plan");
    });

    it("forgets an erased event id not seen for longer than it keeps them", async () => {
      await store.erase(["m1"], T0);
      await store.erase(["other"], at(ERASED.unseenKeptMs + 1));
      const { notification: n } = await store.accept(withText("m1"), at(ERASED.unseenKeptMs + 2));
      assert.equal(n.params.preview, "the secret plan");
      assert.deepEqual(await store.depth(), { fcm: 1 });
    });

    it("never lets the text through when an erase and an accept of one event id race", async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `race:${i}`);
      await Promise.all(
        ids.flatMap((id, i) =>
          i % 2 === 0 ? [store.accept(withText(id), T0), store.erase([id], T0)] : [store.erase([id], T0), store.accept(withText(id), T0)],
        ),
      );
      for (const id of ids) {
        const { notification: n } = await store.accept(withText(id), at(1));
        assert.equal(n.fingerprint, ERASED.fingerprint, `${id} erased`);
        assert.deepEqual(n.content, ERASED_CONTENT);
      }
      assert.deepEqual(await store.depth(), {});
    });
  });
}
