import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { InboxEntrySchema, MessageSchema, QuotedMessageSchema, ReactionCountSchema, SystemEventSchema } from "@parley/contracts/parley/chat/v1/chat";
import { toInboxEntry, toMessage } from "../src/convert.js";
import type { StoredMessage } from "../src/ports.js";

const plain: StoredMessage = {
  messageId: 9_007_199_254_740_993n,
  conversationId: 42n,
  senderId: 7n,
  senderDeviceId: 71n,
  clientMsgId: "client-1",
  text: "hello",
  createdAt: new Date(Date.UTC(2026, 10, 30, 12, 0, 0, 123)),
};

const everything: StoredMessage = {
  ...plain,
  system: toBinary(SystemEventSchema, create(SystemEventSchema, {})),
  editedAt: new Date(Date.UTC(2026, 10, 30, 12, 1, 0, 5)),
  deletedAt: new Date(Date.UTC(2026, 10, 30, 12, 2, 0, 999)),
  reactions: [{ emoji: "👍", count: 2, mine: true }],
  replyToMessageId: 40n,
  replyTo: { messageId: 40n, senderId: 8n, preview: "earlier", deleted: false, unavailable: false },
  mentionedUserIds: [8n, 9n],
};

/** What toMessage built with create() before it became a literal: the reference it must equal. */
function viaCreate(m: StoredMessage) {
  return create(MessageSchema, {
    messageId: m.messageId,
    conversationId: m.conversationId,
    senderId: m.senderId,
    senderDeviceId: m.senderDeviceId,
    clientMsgId: m.clientMsgId,
    text: m.text,
    ...(m.system ? { system: create(SystemEventSchema, {}) } : {}),
    createdAt: timestampFromDate(m.createdAt),
    ...(m.editedAt ? { editedAt: timestampFromDate(m.editedAt) } : {}),
    ...(m.deletedAt ? { deleted: true, deletedAt: timestampFromDate(m.deletedAt) } : {}),
    ...(m.reactions ? { reactions: m.reactions.map((r) => create(ReactionCountSchema, r)) } : {}),
    ...(m.replyTo
      ? {
          replyTo: create(QuotedMessageSchema, {
            messageId: m.replyTo.messageId,
            senderId: m.replyTo.senderId,
            textPreview: m.replyTo.preview,
            deleted: m.replyTo.deleted,
            unavailable: m.replyTo.unavailable,
          }),
        }
      : {}),
    ...(m.mentionedUserIds ? { mentionedUserIds: m.mentionedUserIds } : {}),
  });
}

describe("contract messages built as literals (chat's convert)", () => {
  for (const [name, message] of [
    ["a plain message", plain],
    ["a message with every optional part", everything],
    ["a message from before 1970 (a negative timestamp)", { ...plain, createdAt: new Date(-1_500) }],
  ] as const) {
    it(`equals what create() makes, field for field and byte for byte: ${name}`, () => {
      const built = toMessage(message);
      const reference = viaCreate(message);
      assert.deepEqual(built, reference);
      assert.deepEqual(toBinary(MessageSchema, built), toBinary(MessageSchema, reference));
      assert.equal(toJsonString(MessageSchema, built), toJsonString(MessageSchema, reference));
    });
  }

  it("builds an inbox entry as create() does", () => {
    const entry = toInboxEntry({ userId: 8n, seq: 12n, item: { kind: "message", message: everything } });
    const reference = create(InboxEntrySchema, { seq: 12n, item: { case: "message", value: viaCreate(everything) } });
    assert.deepEqual(entry, reference);
    assert.deepEqual(toBinary(InboxEntrySchema, entry), toBinary(InboxEntrySchema, reference));
  });
});
