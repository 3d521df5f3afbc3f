import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Channel, DeliveryState, Kind, NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { rejectsWithCode, until } from "@parley/testkit";
import type { Channel as ProviderChannel, Provider } from "../src/ports.js";
import { SmsHttpProvider } from "../src/adapters/providers/sms.js";
import { startNotifyHarness, type NotifyHarness } from "./harness.js";
import { startFakeSmsGateway } from "./stand-ins/sms.js";

const TEXT = "meet me behind the old mill";
const message = (eventId: string, userId: bigint) => ({
  eventId,
  userId,
  kind: Kind.NEW_MESSAGE,
  params: { conversation_id: "42", sender_name: "Ada", preview: TEXT },
  channels: [Channel.SMS],
  collapseKey: "conversation:42",
});

for (const kind of ["sqlite", "postgres"] as const) {
  describe(`notify service > erase (${kind})`, () => {
    let sms: Awaited<ReturnType<typeof startFakeSmsGateway>>;
    let h: NotifyHarness;
    let users = 0;

    /** A user reachable by SMS only, so the stand-in gateway sees every attempt. */
    async function smsUser(): Promise<bigint> {
      const u = await h.user(`eraser${++users}`);
      await u.api.updateSettings({ settings: { phone: "+15550100123", smsEnabled: true }, fields: ["phone", "sms_enabled"] }, { headers: u.headers });
      return u.id;
    }

    /** What notify keeps of a notification, read from its store: nothing of it may hold the text once erased. */
    const stored = async (id: bigint) => {
      const { notification, deliveries } = await h.notify.notifications.get(id);
      return { text: JSON.stringify([notification.params, notification.content, notification.fingerprint]), notification, deliveries };
    };

    before(async () => {
      sms = await startFakeSmsGateway();
      const providers = new Map<ProviderChannel, Provider>([["sms", new SmsHttpProvider({ url: sms.url, token: "sms-token" })]]);
      // Retries every 100 to 200 ms and never dead-letters on its own: a failing delivery stays pending.
      h = await startNotifyHarness(kind, providers, { maxAttempts: 1_000, retryBaseMs: 100, retryMaxMs: 200 });
    });
    after(async () => {
      await h.close();
      sms.server.closeAllConnections();
      await new Promise((resolve) => sms.server.close(resolve));
    });
    beforeEach(() => {
      sms.seen.length = 0;
      sms.replies.length = 0;
      sms.reply = { status: 201 };
    });

    it("removes the text from a stored notification and stops a delivery still retrying, which is skipped as erased", async () => {
      const userId = await smsUser();
      sms.reply = { status: 503 };
      const sent = await h.api.send(message(`retrying-${userId}`, userId));
      await until(() => sms.seen.length >= 2, "the delivery to be retrying");
      assert.match((await stored(sent.notificationId)).text, /old mill/);

      const chat = createClient(NotifyService, h.credentials.plane("chat").transport(new URL(h.url).host, "notify"));
      assert.deepEqual((await chat.erase({ eventIds: [`retrying-${userId}`, "never-sent"] })).erased, 1);
      const erased = await stored(sent.notificationId);
      assert.doesNotMatch(erased.text, /old mill/);
      assert.deepEqual(erased.notification.params, { conversation_id: "42", sender_name: "Ada" });
      assert.equal(erased.notification.content.body, "Message deleted");
      const { notification } = await h.api.getNotification({ notificationId: sent.notificationId });
      assert.deepEqual(
        notification!.deliveries.map((d) => [DeliveryState[d.state], d.lastError]),
        [["SKIPPED", "erased"]],
      );
      // An attempt already out when the erase came may still land; none starts after it.
      await sleep(100);
      const attempts = sms.seen.length;
      sms.reply = { status: 201 };
      await sleep(600);
      assert.equal(sms.seen.length, attempts, "no attempt after the erase");
      assert.equal((await h.api.erase({ eventIds: [`retrying-${userId}`] })).erased, 1, "a repeat erases again, and counts it");
    });

    it("stores a Send that arrives after the Erase of its event id erased, and sends nothing", async () => {
      const userId = await smsUser();
      assert.equal((await h.api.erase({ eventIds: [`late-${userId}`] })).erased, 0);
      const late = await h.api.send(message(`late-${userId}`, userId));
      assert.deepEqual([late.duplicate, late.queued, late.skipped], [false, 0, 1]);
      const kept = await stored(late.notificationId);
      assert.doesNotMatch(kept.text, /old mill/);
      assert.deepEqual(
        kept.deliveries.map((d) => [d.state, d.lastError]),
        [["skipped", "erased"]],
      );
      // Chat's retry of the same Send is a repeat, not a conflict with the erased content.
      const again = await h.api.send(message(`late-${userId}`, userId));
      assert.deepEqual([again.duplicate, again.notificationId], [true, late.notificationId]);
      await sleep(300);
      assert.equal(sms.seen.length, 0);
    });

    it("refuses no ids, more than 500 and an empty or over-long id with INVALID_ARGUMENT, naming the field", async () => {
      await rejectsWithCode(h.api.erase({ eventIds: [] }), Code.InvalidArgument, /event_ids must list 1 to 500 event ids/);
      await rejectsWithCode(h.api.erase({ eventIds: Array.from({ length: 501 }, (_, i) => `e${i}`) }), Code.InvalidArgument, /event_ids must list 1 to 500/);
      await rejectsWithCode(h.api.erase({ eventIds: ["ok", ""] }), Code.InvalidArgument, /event_ids\[1\] must be 1 to 128 characters/);
      await rejectsWithCode(h.api.erase({ eventIds: ["x".repeat(129)] }), Code.InvalidArgument, /event_ids\[0\] must be 1 to 128 characters/);
      assert.equal((await h.api.erase({ eventIds: Array.from({ length: 500 }, (_, i) => `${"y".repeat(124)}${i}`) })).erased, 0);
    });

    it("lets the callers that may send erase (chat, apps) and no one else", async () => {
      const as = (principal: string) => createClient(NotifyService, h.credentials.plane(principal).transport(new URL(h.url).host, "notify"));
      await rejectsWithCode(as("gateway").erase({ eventIds: ["a"] }), Code.PermissionDenied, /gateway may not call parley.notify.v1.NotifyService\/Erase/);
      await rejectsWithCode(as("operator:test").erase({ eventIds: ["a"] }), Code.PermissionDenied, /may not call/);
      const bare = createClient(NotifyService, createGrpcTransport({ baseUrl: h.url }));
      await rejectsWithCode(bare.erase({ eventIds: ["a"] }), Code.Unauthenticated, /service token is required/);
      assert.equal((await as("chat").erase({ eventIds: ["a"] })).erased, 0);
      assert.equal((await h.api.erase({ eventIds: ["a"] })).erased, 0);
    });
  });
}
