import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { SystemEventSchema, type InboxEntry as InboxEntryMessage, type Message } from "@parley/contracts/parley/chat/v1/chat";
import { DeliveryRecordSchema, type DeliveryRecord } from "@parley/contracts/parley/chat/v1/delivery_record";
import { toInboxEntry } from "../convert.js";
import type { DeliveryEvent, InboxEntry, StoredMessage } from "../ports.js";

/**
 * The bytes of a delivery bus record that cannot be turned back into an
 * event: not a parley.chat.v1.DeliveryRecord, or one missing what every
 * record has. The consumer reports it and skips the record.
 */
export class UndecodableDeliveryRecord extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`undecodable delivery record: ${reason}`, options);
    this.name = "UndecodableDeliveryRecord";
  }
}

/** A delivery event as a parley.chat.v1.DeliveryRecord (proto/parley/chat/v1/delivery_record.proto). */
export function encodeDeliveryRecord(event: DeliveryEvent): Uint8Array {
  const record: DeliveryRecord =
    event.kind === "entry"
      ? create(DeliveryRecordSchema, {
          userId: event.entry.userId,
          event: { case: "entry", value: toInboxEntry(event.entry) },
          ...(event.exceptDeviceId === undefined ? {} : { exceptDeviceId: event.exceptDeviceId }),
        })
      : create(DeliveryRecordSchema, {
          userId: event.userId,
          event: { case: "typing", value: { conversationId: event.conversationId, userId: event.typerId, typing: event.typing } },
        });
  return toBinary(DeliveryRecordSchema, record);
}

/** The event a record's bytes hold; throws UndecodableDeliveryRecord for anything else. */
export function decodeDeliveryRecord(bytes: Uint8Array): DeliveryEvent {
  let record: DeliveryRecord;
  try {
    record = fromBinary(DeliveryRecordSchema, bytes);
  } catch (err) {
    throw new UndecodableDeliveryRecord(`not a parley.chat.v1.DeliveryRecord (${(err as Error).message})`, { cause: err });
  }
  if (record.userId === 0n) throw new UndecodableDeliveryRecord("no user_id");
  const { event } = record;
  switch (event.case) {
    case "entry": {
      const entry = fromInboxEntry(record.userId, event.value);
      return record.exceptDeviceId === undefined ? { kind: "entry", entry } : { kind: "entry", entry, exceptDeviceId: record.exceptDeviceId };
    }
    case "typing":
      return { kind: "typing", userId: record.userId, conversationId: event.value.conversationId, typerId: event.value.userId, typing: event.value.typing };
    default:
      throw new UndecodableDeliveryRecord("no event (neither entry nor typing)");
  }
}

function fromInboxEntry(userId: bigint, entry: InboxEntryMessage): InboxEntry {
  if (entry.seq === 0n) throw new UndecodableDeliveryRecord("an entry with seq 0");
  const { item } = entry;
  switch (item.case) {
    case "message":
      return { userId, seq: entry.seq, item: { kind: "message", message: fromMessage(item.value) } };
    case "read": {
      const { conversationId, userId: reader, messageId, readAt } = item.value;
      return { userId, seq: entry.seq, item: { kind: "read", read: { conversationId, userId: reader, messageId, readAt: dateOf(readAt, "read_at") } } };
    }
    case "edited": {
      if (item.value.message === undefined) throw new UndecodableDeliveryRecord("an edited entry with no message");
      return { userId, seq: entry.seq, item: { kind: "edited", message: fromMessage(item.value.message) } };
    }
    case "deleted": {
      const { conversationId, messageId, forEveryone, byUserId, deletedAt } = item.value;
      const deletion = { conversationId, messageId, forEveryone, byUserId, at: dateOf(deletedAt, "deleted_at") };
      return { userId, seq: entry.seq, item: { kind: "deleted", deletion } };
    }
    case "reacted": {
      const { conversationId, messageId, byUserId, emoji, removed, reactedAt, reactions } = item.value;
      const counts = reactions.map(({ emoji, count, mine }) => ({ emoji, count, mine }));
      return {
        userId,
        seq: entry.seq,
        item: { kind: "reacted", reaction: { conversationId, messageId, byUserId, emoji, removed, at: dateOf(reactedAt, "reacted_at"), counts } },
      };
    }
    default:
      throw new UndecodableDeliveryRecord("an entry with no item (none of message, read, edited, deleted, reacted)");
  }
}

/**
 * The stored message back from its contract form. A system message's event
 * is carried decoded (the contract's Message has it so) and serialized again
 * here, as StoredMessage keeps it; protobuf-es writes fields in number order,
 * so the bytes are the ones the store holds.
 */
function fromMessage(m: Message): StoredMessage {
  return {
    messageId: m.messageId,
    conversationId: m.conversationId,
    senderId: m.senderId,
    senderDeviceId: m.senderDeviceId,
    clientMsgId: m.clientMsgId,
    text: m.text,
    ...(m.system === undefined ? {} : { system: toBinary(SystemEventSchema, m.system) }),
    createdAt: dateOf(m.createdAt, "created_at"),
    ...(m.editedAt === undefined ? {} : { editedAt: timestampDate(m.editedAt) }),
    ...(m.deleted ? { deletedAt: dateOf(m.deletedAt, "deleted_at") } : {}),
    ...(m.reactions.length > 0 ? { reactions: m.reactions.map(({ emoji, count, mine }) => ({ emoji, count, mine })) } : {}),
    ...(m.mentionedUserIds.length > 0 ? { mentionedUserIds: [...m.mentionedUserIds] } : {}),
    ...(m.replyTo === undefined
      ? {}
      : {
          replyToMessageId: m.replyTo.messageId,
          replyTo: {
            messageId: m.replyTo.messageId,
            senderId: m.replyTo.senderId,
            preview: m.replyTo.textPreview,
            deleted: m.replyTo.deleted,
            unavailable: m.replyTo.unavailable,
          },
        }),
  };
}

function dateOf(timestamp: Timestamp | undefined, field: string): Date {
  if (timestamp === undefined) throw new UndecodableDeliveryRecord(`no ${field}`);
  return timestampDate(timestamp);
}
