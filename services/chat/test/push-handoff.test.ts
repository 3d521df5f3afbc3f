import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Channel, Kind } from "@parley/contracts/parley/notify/v1/notify";
import { newMessageRequest, PREVIEW_MAX_CHARS, previewText } from "../src/adapters/notify-request.js";
import { failureCode, isTransient } from "../src/adapters/retry-policy.js";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { SystemEventSchema } from "@parley/contracts/parley/chat/v1/chat";
import { additionOf } from "../src/domain/added-to-group.js";
import { pushableMessage } from "../src/delivery.js";
import type { DeliveryEvent, StoredMessage } from "../src/ports.js";

const message = (senderId: bigint, fields: Partial<StoredMessage> = {}): StoredMessage => ({
  messageId: 9_000n,
  conversationId: 77n,
  senderId,
  senderDeviceId: 1n,
  clientMsgId: "c-1",
  text: "see you at eight",
  createdAt: new Date(0),
  ...fields,
});
const system = (event: NonNullable<MessageInitShape<typeof SystemEventSchema>["event"]>): StoredMessage =>
  message(0n, { clientMsgId: "", text: "", system: toBinary(SystemEventSchema, create(SystemEventSchema, { event })) });
const entry = (recipient: bigint, m: StoredMessage): DeliveryEvent => ({
  kind: "entry",
  entry: { userId: recipient, seq: 5n, item: { kind: "message", message: m } },
});

describe("push hand-off", () => {
  describe("newMessageRequest", () => {
    it("derives the event id from message and recipient and collapses per conversation", () => {
      const request = newMessageRequest({ push: { recipientId: 42n, message: message(7n) }, senderName: "Ada", groupName: undefined, badge: 3 });
      assert.equal(request.eventId, "message:9000:42");
      assert.equal(request.userId, 42n);
      assert.equal(request.kind, Kind.NEW_MESSAGE);
      assert.deepEqual(request.params, { conversation_id: "77", sender_name: "Ada", preview: "see you at eight" });
      assert.deepEqual(request.channels, [Channel.PUSH]);
      assert.equal(request.collapseKey, "conversation:77");
      assert.equal(request.badge, 3);
    });

    it("names the group", () => {
      const request = newMessageRequest({ push: { recipientId: 42n, message: message(7n) }, senderName: "Ada", groupName: "Climbing", badge: 0 });
      assert.equal(request.params.conversation_name, "Climbing");
    });

    it("passes up to 2,000 characters of text for notify to cut, never splitting an emoji", () => {
      const preview = (text: string) =>
        newMessageRequest({ push: { recipientId: 1n, message: message(2n, { text }) }, senderName: "A", groupName: undefined, badge: 0 }).params.preview;
      const exact = "x".repeat(PREVIEW_MAX_CHARS);
      assert.equal(preview(exact), exact);
      assert.equal(preview(`${exact}yz`), exact);
      const emoji = "\u{1F600}".repeat(PREVIEW_MAX_CHARS + 5);
      assert.equal(preview(emoji), "\u{1F600}".repeat(PREVIEW_MAX_CHARS));
      assert.equal(previewText("short"), "short");
      assert.equal(previewText(`${" ".repeat(PREVIEW_MAX_CHARS)}hello`), "hello");
    });

    it("keeps the badge within uint32", () => {
      const badge = (n: number) =>
        newMessageRequest({ push: { recipientId: 1n, message: message(2n) }, senderName: "A", groupName: undefined, badge: n }).badge;
      assert.equal(badge(2 ** 40), 0xffff_ffff);
      assert.equal(badge(-1), 0);
    });
  });

  describe("retries", () => {
    it("retries unavailable, deadline exceeded, internal, resource exhausted and unknown, and nothing else", () => {
      const transient = [Code.Unavailable, Code.DeadlineExceeded, Code.Internal, Code.ResourceExhausted, Code.Unknown];
      for (const code of transient) assert.equal(isTransient(code), true, Code[code]);
      for (const code of [Code.InvalidArgument, Code.NotFound, Code.AlreadyExists, Code.Unauthenticated, Code.PermissionDenied, Code.Canceled]) {
        assert.equal(isTransient(code), false, Code[code]);
      }
    });

    it("counts an error from outside Connect, such as a store failure, as unknown", () => {
      assert.equal(failureCode(new Error("connection reset")), Code.Unknown);
      assert.equal(failureCode(new ConnectError("down", Code.Unavailable)), Code.Unavailable);
    });
  });

  describe("pushableMessage", () => {
    it("takes another user's message in the recipient's inbox", () => {
      const m = message(7n);
      assert.equal(pushableMessage(entry(42n, m)), m);
    });

    it("takes the system message saying someone else added the recipient, on creation or later", () => {
      const created = system({ case: "groupCreated", value: { name: "trip", memberIds: [7n, 42n], byUserId: 7n } });
      const added = system({ case: "membersAdded", value: { userIds: [42n, 43n], byUserId: 7n } });
      assert.equal(pushableMessage(entry(42n, created)), created);
      assert.equal(pushableMessage(entry(43n, added)), added);
      assert.deepEqual(additionOf(created, 42n), { byUserId: 7n, groupName: "trip" });
      assert.deepEqual(additionOf(added, 43n), { byUserId: 7n, groupName: undefined });
    });

    it("leaves out additions seen by the adder, by members not added, or stored without who acted", () => {
      const created = system({ case: "groupCreated", value: { name: "trip", memberIds: [7n, 42n], byUserId: 7n } });
      assert.equal(pushableMessage(entry(7n, created)), undefined);
      const added = system({ case: "membersAdded", value: { userIds: [43n], byUserId: 7n } });
      assert.equal(pushableMessage(entry(42n, added)), undefined);
      const old = system({ case: "membersAdded", value: { userIds: [43n] } });
      assert.equal(pushableMessage(entry(43n, old)), undefined);
      assert.equal(pushableMessage(entry(42n, system({ case: "groupRenamed", value: { name: "x" } }))), undefined);
    });

    it("leaves out the sender's own entry, system messages, read receipts and typing", () => {
      assert.equal(pushableMessage(entry(7n, message(7n))), undefined);
      assert.equal(pushableMessage(entry(42n, message(0n, { clientMsgId: "", text: "", system: new Uint8Array([1]) }))), undefined);
      const read: DeliveryEvent = {
        kind: "entry",
        entry: { userId: 42n, seq: 6n, item: { kind: "read", read: { conversationId: 77n, userId: 7n, messageId: 9_000n, readAt: new Date(0) } } },
      };
      assert.equal(pushableMessage(read), undefined);
      assert.equal(pushableMessage({ kind: "typing", userId: 42n, conversationId: 77n, typerId: 7n, typing: true }), undefined);
    });

    it("leaves out edits, deletions, and a message deleted before its delivery (an overdue entry read again)", () => {
      const m = message(7n);
      assert.equal(pushableMessage({ kind: "entry", entry: { userId: 42n, seq: 7n, item: { kind: "edited", message: m } } }), undefined);
      const deletion = { conversationId: m.conversationId, messageId: m.messageId, forEveryone: true, byUserId: 7n, at: new Date(0) };
      assert.equal(pushableMessage({ kind: "entry", entry: { userId: 42n, seq: 8n, item: { kind: "deleted", deletion } } }), undefined);
      assert.equal(pushableMessage(entry(42n, { ...m, text: "", deletedAt: new Date(0) })), undefined);
    });
  });
});
