import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { SystemEventSchema, TypingEventSchema } from "@parley/contracts/parley/chat/v1/chat";
import { decodeDeliveryRecord, encodeDeliveryRecord, UndecodableDeliveryRecord } from "../src/adapters/delivery-record.js";
import type { DeliveryEvent, StoredMessage } from "../src/ports.js";

const recipient = 4_611_686_018_427_387_903n; // 2^62 - 1: a 63-bit id survives the trip
const createdAt = new Date("2026-03-01T12:34:56.789Z");

const message: StoredMessage = {
  messageId: 7_200_000_000_000_000_001n,
  conversationId: 900n,
  senderId: 12n,
  senderDeviceId: 121n,
  clientMsgId: "c-1",
  text: "hello 👋",
  createdAt,
};

const systemMessage: StoredMessage = {
  messageId: 7_200_000_000_000_000_002n,
  conversationId: 900n,
  senderId: 0n,
  senderDeviceId: 0n,
  clientMsgId: "",
  text: "",
  system: toBinary(SystemEventSchema, create(SystemEventSchema, { event: { case: "membersAdded", value: { userIds: [5n, 6n], byUserId: 12n } } })),
  createdAt,
};

const events: Record<string, DeliveryEvent> = {
  "a message entry": { kind: "entry", entry: { userId: recipient, seq: 1n, item: { kind: "message", message } } },
  "a message entry with exceptDeviceId": { kind: "entry", entry: { userId: recipient, seq: 2n, item: { kind: "message", message } }, exceptDeviceId: 121n },
  "a system message entry": { kind: "entry", entry: { userId: recipient, seq: 3n, item: { kind: "message", message: systemMessage } } },
  "a read entry": {
    kind: "entry",
    entry: { userId: recipient, seq: 4n, item: { kind: "read", read: { conversationId: 900n, userId: 5n, messageId: message.messageId, readAt: createdAt } } },
  },
  "a read entry with exceptDeviceId 0": {
    kind: "entry",
    entry: { userId: recipient, seq: 5n, item: { kind: "read", read: { conversationId: 900n, userId: 5n, messageId: 1n, readAt: createdAt } } },
    exceptDeviceId: 0n,
  },
  "an edited entry": {
    kind: "entry",
    entry: {
      userId: recipient,
      seq: 6n,
      item: { kind: "edited", message: { ...message, text: "hello again", editedAt: new Date("2026-03-01T12:40:00.001Z") } },
    },
  },
  "a message entry read after a deletion (a tombstone)": {
    kind: "entry",
    entry: { userId: recipient, seq: 7n, item: { kind: "message", message: { ...message, text: "", deletedAt: new Date("2026-03-01T13:00:00Z") } } },
  },
  "a deleted entry for everyone": {
    kind: "entry",
    entry: {
      userId: recipient,
      seq: 8n,
      item: { kind: "deleted", deletion: { conversationId: 900n, messageId: message.messageId, forEveryone: true, byUserId: 12n, at: createdAt } },
    },
  },
  "a deleted entry for the user only": {
    kind: "entry",
    entry: {
      userId: recipient,
      seq: 9n,
      item: { kind: "deleted", deletion: { conversationId: 900n, messageId: message.messageId, forEveryone: false, byUserId: recipient, at: createdAt } },
    },
  },
  "a reacted entry with the counts as its user sees them": {
    kind: "entry",
    entry: {
      userId: recipient,
      seq: 10n,
      item: {
        kind: "reacted",
        reaction: {
          conversationId: 900n,
          messageId: message.messageId,
          byUserId: 12n,
          emoji: "👍🏽",
          removed: false,
          at: createdAt,
          counts: [
            { emoji: "👍🏽", count: 2, mine: true },
            { emoji: "❤️", count: 1, mine: false },
          ],
        },
      },
    },
  },
  "a reply's message entry with its quote and mentions": {
    kind: "entry",
    entry: {
      userId: recipient,
      seq: 11n,
      item: {
        kind: "message",
        message: {
          ...message,
          replyToMessageId: 7_200_000_000_000_000_000n,
          replyTo: { messageId: 7_200_000_000_000_000_000n, senderId: 5n, preview: "the quoted text", deleted: false, unavailable: false },
          mentionedUserIds: [5n, recipient],
        },
      },
    },
  },
  "a typing start": { kind: "typing", userId: recipient, conversationId: 900n, typerId: 12n, typing: true },
  "a typing stop": { kind: "typing", userId: recipient, conversationId: 900n, typerId: 12n, typing: false },
};

const refused = (reason: RegExp) => (err: unknown) => err instanceof UndecodableDeliveryRecord && reason.test(err.message);

describe("delivery record codec", () => {
  for (const [name, event] of Object.entries(events)) {
    it(`carries ${name} through encode and decode unchanged`, () => {
      assert.deepStrictEqual(decodeDeliveryRecord(encodeDeliveryRecord(event)), event);
    });
  }

  it("gives a system message's event back byte for byte", () => {
    const decoded = decodeDeliveryRecord(encodeDeliveryRecord(events["a system message entry"]!));
    assert.ok(decoded.kind === "entry" && decoded.entry.item.kind === "message");
    assert.deepEqual(decoded.entry.item.message.system, systemMessage.system);
  });

  it("refuses bytes that are not protobuf, naming the record type", () => {
    const bytes = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    assert.throws(() => decodeDeliveryRecord(bytes), refused(/undecodable delivery record: not a parley\.chat\.v1\.DeliveryRecord/));
  });

  it("refuses text that is not a record", () => {
    const bytes = new TextEncoder().encode('{"kind":"typing"}');
    assert.throws(() => decodeDeliveryRecord(bytes), UndecodableDeliveryRecord);
  });

  it("refuses another message type's bytes", () => {
    const bytes = toBinary(TypingEventSchema, create(TypingEventSchema, { conversationId: 1n, userId: 2n, typing: true }));
    assert.throws(() => decodeDeliveryRecord(bytes), UndecodableDeliveryRecord);
  });

  it("refuses an empty record: no user and no event", () => {
    assert.throws(() => decodeDeliveryRecord(new Uint8Array()), refused(/no user_id/));
  });

  it("refuses a record with a user but no event", () => {
    const bytes = new Uint8Array([0x08, 0x01]); // user_id = 1
    assert.throws(() => decodeDeliveryRecord(bytes), refused(/no event/));
  });
});
