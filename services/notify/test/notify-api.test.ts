import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Channel, DeliveryState, Kind, NotifyService, TrackedEvent, type Delivery } from "@parley/contracts/parley/notify/v1/notify";
import { rejectsWithCode, until } from "@parley/testkit";
import type { Channel as ProviderChannel, Provider } from "../src/ports.js";
import { FcmProvider } from "../src/adapters/providers/fcm.js";
import { SmsHttpProvider } from "../src/adapters/providers/sms.js";
import { startNotifyHarness, type NotifyHarness } from "./harness.js";
import { credential, fcmDetail, fcmError, LocalAgent, startFakeFcm } from "./stand-ins/fcm.js";
import { startFakeSmsGateway } from "./stand-ins/sms.js";

const message = (conversationId: string, preview = "see you at 6") => ({
  kind: Kind.NEW_MESSAGE,
  params: { conversation_id: conversationId, sender_name: "Ada", preview },
  collapseKey: `conversation:${conversationId}`,
  badge: 4,
});

for (const kind of ["sqlite", "postgres"] as const) {
  describe(`notify service (${kind})`, () => {
    let fcm: Awaited<ReturnType<typeof startFakeFcm>>;
    let sms: Awaited<ReturnType<typeof startFakeSmsGateway>>;
    let h: NotifyHarness;
    let users = 0;
    const nextName = () => `user${++users}`;

    /** The notification's deliveries once none is pending any more. */
    const settled = (id: bigint) =>
      until(
        async () => {
          const { notification } = await h.api.getNotification({ notificationId: id });
          const deliveries = notification!.deliveries;
          return deliveries.every((d) => d.state !== DeliveryState.PENDING) ? deliveries : undefined;
        },
        `notification ${id} to settle`,
        { timeoutMs: 10_000 },
      );

    before(async () => {
      fcm = await startFakeFcm();
      sms = await startFakeSmsGateway();
      const providers = new Map<ProviderChannel, Provider>([
        ["fcm", new FcmProvider({ projectId: "demo-test", credential, httpAgent: new LocalAgent(fcm.port) })],
        ["sms", new SmsHttpProvider({ url: sms.url, token: "sms-token" })],
      ]);
      h = await startNotifyHarness(kind, providers, { rateLimit: 3 });
    });
    after(async () => {
      await h.close();
      for (const server of [fcm.server, sms.server]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });
    beforeEach(() => {
      fcm.seen.length = 0;
      fcm.replies.length = 0;
      sms.seen.length = 0;
      sms.replies.length = 0;
      sms.reply = { status: 201 };
    });

    describe("send", () => {
      it("pushes once to each device of the user, with the rendered text, collapse key and badge", async () => {
        const u = await h.user(nextName(), 2);
        const res = await h.api.send({ eventId: `e-${u.id}`, userId: u.id, ...message("42") });
        assert.deepEqual([res.duplicate, res.queued, res.skipped, res.rateLimited], [false, 2, 0, false]);
        const deliveries = await settled(res.notificationId);
        assert.deepEqual(
          deliveries.map((d) => [d.state, d.deviceId, d.attempts]),
          u.deviceIds.map((id) => [DeliveryState.SENT, id, 1]),
        );
        const tokens = fcm.seen.map((s) => s.body.message.token).sort();
        assert.deepEqual(tokens, [`fcm-user${users}-1`, `fcm-user${users}-2`]);
        const sent = fcm.seen[0]!.body.message;
        assert.deepEqual(sent.notification, { title: "Ada", body: "see you at 6" });
        assert.deepEqual(sent.data, { kind: "new_message", conversation_id: "42", notification_id: res.notificationId.toString() });
        assert.equal(sent.android?.collapse_key, "conversation:42");
        assert.equal(sent.android?.notification?.notification_count, 4);
      });

      it("stores one notification for a repeated event id and sends it once", async () => {
        const u = await h.user(nextName());
        const first = await h.api.send({ eventId: `dup-${u.id}`, userId: u.id, ...message("42") });
        const again = await h.api.send({ eventId: `dup-${u.id}`, userId: u.id, ...message("42"), badge: 9 });
        assert.equal(again.duplicate, true);
        assert.equal(again.notificationId, first.notificationId);
        await settled(first.notificationId);
        const listed = await h.api.listUserNotifications({ userId: u.id });
        assert.equal(listed.notifications.length, 1);
        assert.equal(fcm.seen.length, 1);
      });

      it("answers a SendBatch send by send, in order, each as Send would: accepted, a repeat, an unknown user, a bad request", async () => {
        const u = await h.user(nextName());
        const first = await h.api.send({ eventId: `batch-seen-${u.id}`, userId: u.id, ...message("42") });
        const { outcomes } = await h.api.sendBatch({
          requests: [
            { eventId: `batch-new-${u.id}`, userId: u.id, ...message("43") },
            { eventId: `batch-seen-${u.id}`, userId: u.id, ...message("42") },
            { eventId: `batch-nobody-${u.id}`, userId: 999_999_999n, ...message("42") },
            { eventId: "", userId: u.id, ...message("42") },
          ],
        });
        assert.equal(outcomes.length, 4);
        const [accepted, repeat, nobody, bad] = outcomes.map((o) => o.outcome);
        assert.equal(accepted?.case, "sent");
        assert.equal(accepted?.case === "sent" && accepted.value.duplicate, false);
        assert.equal(repeat?.case === "sent" && repeat.value.notificationId, first.notificationId);
        assert.equal(repeat?.case === "sent" && repeat.value.duplicate, true);
        assert.deepEqual(nobody?.case === "error" && [Code[nobody.value.code], /does not exist/.test(nobody.value.message)], ["NotFound", true]);
        assert.equal(bad?.case === "error" && Code[bad.value.code], "InvalidArgument");
        if (accepted?.case === "sent") assert.equal((await settled(accepted.value.notificationId))[0]!.state, DeliveryState.SENT);
      });

      it("refuses an empty SendBatch and one of more than 500 sends", async () => {
        await rejectsWithCode(h.api.sendBatch({ requests: [] }), Code.InvalidArgument, /requests must hold 1 to 500 sends/);
        const many = Array.from({ length: 501 }, (_, i) => ({ eventId: `too-many-${i}`, userId: 1n, ...message("42") }));
        await rejectsWithCode(h.api.sendBatch({ requests: many }), Code.InvalidArgument, /requests must hold 1 to 500 sends/);
      });

      it("refuses a SendBatch as a whole, naming the request and field, when one request breaks the shared field rules", async () => {
        const requests = [
          { eventId: "fine", userId: 1n, ...message("42") },
          { eventId: "nul\u0000here", userId: 1n, ...message("42") },
        ];
        await rejectsWithCode(h.api.sendBatch({ requests }), Code.InvalidArgument, /requests\[1\]\.event_id/);
      });

      it("refuses an event id reused for different content with ALREADY_EXISTS", async () => {
        const u = await h.user(nextName());
        await h.api.send({ eventId: `reuse-${u.id}`, userId: u.id, ...message("42") });
        await rejectsWithCode(h.api.send({ eventId: `reuse-${u.id}`, userId: u.id, ...message("42", "other text") }), Code.AlreadyExists, /already used/);
      });

      it("sends nothing to a user who turned push off, and says why", async () => {
        const u = await h.user(nextName());
        await settled((await h.api.send({ eventId: `warm-${u.id}`, userId: u.id, ...message("42") })).notificationId); // fills the cache
        fcm.seen.length = 0;
        await u.api.updateSettings({ settings: { pushEnabled: false }, fields: ["push_enabled"] }, { headers: u.headers });
        const res = await until(
          async () => {
            const r = await h.api.send({ eventId: `off-${u.id}-${Date.now()}`, userId: u.id, ...message("42") });
            return r.skipped === 1 ? r : undefined;
          },
          "the settings change to reach notify",
          { timeoutMs: 5_000 },
        );
        const [delivery] = (await h.api.getNotification({ notificationId: res.notificationId })).notification!.deliveries;
        assert.deepEqual([delivery!.state, delivery!.lastError], [DeliveryState.SKIPPED, "push turned off by the user"]);
        assert.equal(fcm.seen.length, 0);
      });

      it("sends nothing for a muted conversation, and still pushes other conversations", async () => {
        const u = await h.user(nextName());
        await u.api.updateSettings({ settings: { mutedConversationIds: [77n] }, fields: ["muted_conversation_ids"] }, { headers: u.headers });
        const muted = await h.api.send({ eventId: `muted-${u.id}`, userId: u.id, ...message("77") });
        const other = await h.api.send({ eventId: `other-${u.id}`, userId: u.id, ...message("78") });
        const [skipped] = await settled(muted.notificationId);
        assert.deepEqual([skipped!.state, skipped!.lastError], [DeliveryState.SKIPPED, "conversation muted"]);
        assert.equal((await settled(other.notificationId))[0]!.state, DeliveryState.SENT);
        assert.deepEqual(
          fcm.seen.map((s) => s.body.message.data.conversation_id),
          ["78"],
        );
      });

      it("pushes a message that mentions the user even in a conversation they muted", async () => {
        const u = await h.user(nextName());
        await u.api.updateSettings({ settings: { mutedConversationIds: [79n] }, fields: ["muted_conversation_ids"] }, { headers: u.headers });
        const plain = message("79");
        const mention = await h.api.send({ eventId: `mention-${u.id}`, userId: u.id, ...plain, params: { ...plain.params, mentioned: "true" } });
        const quiet = await h.api.send({ eventId: `quiet-${u.id}`, userId: u.id, ...plain });
        assert.equal((await settled(mention.notificationId))[0]!.state, DeliveryState.SENT);
        assert.deepEqual(
          (await settled(quiet.notificationId)).map((d) => d.lastError),
          ["conversation muted"],
        );
      });

      it("keeps a mention quiet in a muted conversation when the user's mute_mentions says so", async () => {
        const u = await h.user(nextName());
        await u.api.updateSettings(
          { settings: { mutedConversationIds: [80n], muteMentions: true }, fields: ["muted_conversation_ids", "mute_mentions"] },
          { headers: u.headers },
        );
        const plain = message("80");
        const mention = await h.api.send({ eventId: `quiet-mention-${u.id}`, userId: u.id, ...plain, params: { ...plain.params, mentioned: "true" } });
        const elsewhere = await h.api.send({
          eventId: `mention-elsewhere-${u.id}`,
          userId: u.id,
          ...message("81"),
          params: { ...message("81").params, mentioned: "true" },
        });
        assert.deepEqual(
          (await settled(mention.notificationId)).map((d) => d.lastError),
          ["conversation muted"],
        );
        assert.equal((await settled(elsewhere.notificationId))[0]!.state, DeliveryState.SENT);
      });

      it("hides the preview when the user turned previews off, and cuts it to the user's length", async () => {
        const hidden = await h.user(nextName());
        await hidden.api.updateSettings({ settings: { showPreviews: false }, fields: ["show_previews"] }, { headers: hidden.headers });
        const short = await h.user(nextName());
        await short.api.updateSettings({ settings: { previewLength: 5 }, fields: ["preview_length"] }, { headers: short.headers });
        await settled((await h.api.send({ eventId: `hidden-${hidden.id}`, userId: hidden.id, ...message("42") })).notificationId);
        await settled((await h.api.send({ eventId: `short-${short.id}`, userId: short.id, ...message("42") })).notificationId);
        const bodies = new Map(fcm.seen.map((s) => [s.body.message.token as string, s.body.message.notification.body as string]));
        assert.equal(bodies.get(`fcm-user${users - 1}-1`), "New message");
        assert.equal(bodies.get(`fcm-user${users}-1`), "see y…");
      });

      it("rate-limits a user past the limit (3 per minute here) and stores the rest as skipped", async () => {
        const u = await h.user(nextName());
        const results = [];
        for (let i = 0; i < 5; i++) results.push(await h.api.send({ eventId: `rate-${u.id}-${i}`, userId: u.id, ...message(String(100 + i)) }));
        assert.deepEqual(
          results.map((r) => r.rateLimited),
          [false, false, false, true, true],
        );
        const limited = (await h.api.getNotification({ notificationId: results[4]!.notificationId })).notification!;
        assert.equal(limited.rateLimited, true);
        assert.deepEqual(
          limited.deliveries.map((d) => [d.state, d.lastError]),
          [[DeliveryState.SKIPPED, "rate limited"]],
        );
        for (const r of results.slice(0, 3)) await settled(r.notificationId);
        assert.equal(fcm.seen.length, 3);
      });
    });

    describe("failures", () => {
      async function smsUser(): Promise<bigint> {
        const u = await h.user(nextName());
        await u.api.updateSettings({ settings: { phone: "+15550100123", smsEnabled: true }, fields: ["phone", "sms_enabled"] }, { headers: u.headers });
        return u.id;
      }

      it("retries a provider that fails three times and delivers once when it recovers", async () => {
        const userId = await smsUser();
        sms.replies.push({ status: 500 }, { status: 500 }, { status: 500 });
        const res = await h.api.send({ eventId: `flaky-${userId}`, userId, ...message("42"), channels: [Channel.SMS] });
        const [delivery] = await settled(res.notificationId);
        assert.deepEqual([delivery!.state, delivery!.attempts, delivery!.lastError], [DeliveryState.SENT, 4, ""]);
        assert.equal(sms.seen.length, 4);
      });

      it("dead-letters a provider that always fails without holding up push, and an operator can retry it", async () => {
        const userId = await smsUser();
        sms.reply = { status: 503 };
        const res = await h.api.send({ eventId: `down-${userId}`, userId, ...message("42"), channels: [Channel.PUSH, Channel.SMS] });
        const deliveries = await settled(res.notificationId);
        const byChannel = (c: Channel) => deliveries.find((d) => d.channel === c)!;
        assert.deepEqual(
          [byChannel(Channel.PUSH).state, byChannel(Channel.SMS).state, byChannel(Channel.SMS).attempts],
          [DeliveryState.SENT, DeliveryState.DEAD, 4],
        );
        const dead = (await h.ops.listDeadLetters({})).deliveries.map((d: Delivery) => d.deliveryId);
        assert.ok(dead.includes(byChannel(Channel.SMS).deliveryId));
        sms.reply = { status: 201 };
        const { retried } = await h.ops.retryDeadLetters({ deliveryIds: [byChannel(Channel.SMS).deliveryId] });
        assert.equal(retried, 1);
        const after = await settled(res.notificationId);
        assert.equal(after.find((d) => d.channel === Channel.SMS)!.state, DeliveryState.SENT);
      });

      it("removes a token the provider calls unregistered and never retries it", async () => {
        const u = await h.user(nextName());
        fcm.replies.push({ status: 404, body: fcmError(404, "NOT_FOUND", "Requested entity was not found.", [fcmDetail("UNREGISTERED")]) });
        const res = await h.api.send({ eventId: `gone-${u.id}`, userId: u.id, ...message("42") });
        const [delivery] = await settled(res.notificationId);
        assert.equal(delivery!.state, DeliveryState.REJECTED);
        await until(async () => (await h.account.getNotificationTargets({ userId: u.id })).pushTargets.length === 0, "the token to go", { timeoutMs: 5_000 });
        assert.equal(fcm.seen.length, 1);
      });
    });

    describe("bad input and callers", () => {
      it("refuses an unknown user with NOT_FOUND", async () => {
        await rejectsWithCode(h.api.send({ eventId: "nobody", userId: 123_456_789n, ...message("42") }), Code.NotFound, /user 123456789 does not exist/);
      });

      it("refuses an unknown template and missing or unknown parameters with INVALID_ARGUMENT", async () => {
        const u = await h.user(nextName());
        await rejectsWithCode(h.api.send({ eventId: "k", userId: u.id, kind: Kind.UNSPECIFIED }), Code.InvalidArgument, /kind is not a known template/);
        await rejectsWithCode(
          h.api.send({ eventId: "p", userId: u.id, kind: Kind.NEW_MESSAGE, params: { conversation_id: "1" } }),
          Code.InvalidArgument,
          /missing sender_name, preview/,
        );
        await rejectsWithCode(
          h.api.send({ eventId: "q", userId: u.id, kind: Kind.FRIEND_REQUEST, params: { from_name: "Ada", colour: "red" } }),
          Code.InvalidArgument,
          /unknown parameters colour/,
        );
        await rejectsWithCode(h.api.send({ eventId: "", userId: u.id, ...message("1") }), Code.InvalidArgument, /event_id must be 1 to 128/);
        await rejectsWithCode(
          h.api.send({ eventId: "c", userId: u.id, ...message("1"), channels: [Channel.UNSPECIFIED] }),
          Code.InvalidArgument,
          /unknown channel/,
        );
      });

      it("refuses callers without a service token with UNAUTHENTICATED, and the old app secrets too", async () => {
        const bare = createClient(NotifyService, createGrpcTransport({ baseUrl: h.url }));
        await rejectsWithCode(bare.send({ eventId: "x", userId: 1n, ...message("1") }), Code.Unauthenticated, /service token is required/);
        const basic = { authorization: `Basic ${Buffer.from("chat:a-test-secret-of-some-length").toString("base64")}` };
        await rejectsWithCode(bare.listDeadLetters({}, { headers: basic }), Code.Unauthenticated, /service token is required/);
      });

      it("lets only chat and apps send, and only operators handle dead letters (PERMISSION_DENIED)", async () => {
        const address = new URL(h.url).host;
        const as = (principal: string) => createClient(NotifyService, h.credentials.plane(principal).transport(address, "notify"));
        await rejectsWithCode(
          as("gateway").send({ eventId: "g", userId: 1n, ...message("1") }),
          Code.PermissionDenied,
          /gateway may not call parley.notify.v1.NotifyService\/Send/,
        );
        await rejectsWithCode(as("presence").send({ eventId: "p", userId: 1n, ...message("1") }), Code.PermissionDenied, /presence may not call/);
        await rejectsWithCode(h.api.listDeadLetters({}), Code.PermissionDenied, /app:test may not call/);
        await rejectsWithCode(as("chat").listDeadLetters({}), Code.PermissionDenied, /chat may not call/);
        await rejectsWithCode(as("chat").send({ eventId: "c", userId: 123_456_789n, ...message("1") }), Code.NotFound, /does not exist/);
      });
    });

    describe("operations", () => {
      it("lists a user's notifications newest first and records tracked events", async () => {
        const u = await h.user(nextName());
        const a = await h.api.send({ eventId: `la-${u.id}`, userId: u.id, ...message("1") });
        const b = await h.api.send({ eventId: `lb-${u.id}`, userId: u.id, kind: Kind.FRIEND_REQUEST, params: { from_name: "Bob" } });
        const listed = await h.api.listUserNotifications({ userId: u.id, limit: 10 });
        assert.deepEqual(
          listed.notifications.map((n) => [n.notificationId, n.kind]),
          [
            [b.notificationId, Kind.FRIEND_REQUEST],
            [a.notificationId, Kind.NEW_MESSAGE],
          ],
        );
        await h.api.trackEvent({ notificationId: a.notificationId, event: TrackedEvent.OPENED, deviceId: u.deviceId });
        await rejectsWithCode(h.api.trackEvent({ notificationId: 999_999_999n, event: TrackedEvent.OPENED }), Code.NotFound, /does not exist/);
        await rejectsWithCode(h.api.listUserNotifications({ userId: u.id, limit: 101 }), Code.InvalidArgument, /limit must be 1 to 100/);
      });

      it("exports attempts per channel and provider, and the queue depth", async () => {
        const u = await h.user(nextName());
        await settled((await h.api.send({ eventId: `m-${u.id}`, userId: u.id, ...message("1") })).notificationId);
        const text = await h.metrics.registry.metrics();
        assert.match(text, /parley_notify_attempts_total\{channel="fcm",provider="fcm",outcome="sent"\} [1-9]/);
        assert.match(text, /parley_notify_queue_depth\{channel="sms"\} 0/);
        assert.match(text, /parley_notify_notifications_total\{kind="new_message",outcome="accepted"\} [1-9]/);
      });
    });
  });
}
