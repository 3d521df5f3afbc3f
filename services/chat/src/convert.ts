import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ConversationKind,
  ConversationSchema,
  ConversationSummarySchema,
  MemberRole,
  MessageDeletedSchema,
  MessageEditedSchema,
  MessageReactedSchema,
  QuotedMessageSchema,
  ReactionCountSchema,
  ReadReceiptSchema,
  SearchHitSchema,
  SystemEventSchema,
  type SearchHit as SearchHitMessage,
  type Conversation,
  type ConversationSummary as SummaryMessage,
  type InboxEntry as InboxEntryMessage,
  type Message,
  type QuotedMessage as QuotedMessageProto,
  type ReactionCount as ReactionCountMessage,
} from "@parley/contracts/parley/chat/v1/chat";
import type { SearchHit } from "./domain/search.js";
import type {
  ConversationRecord,
  ConversationSummary,
  InboxEntry,
  InboxItem,
  QuotedMessage,
  ReactionCount,
  MemberRole as Role,
  StoredMessage,
} from "./ports.js";

const ROLES: Record<Role, MemberRole> = { member: MemberRole.MEMBER, admin: MemberRole.ADMIN, owner: MemberRole.OWNER };

/**
 * Domain records to contract messages.
 *
 * A message and its entry are built as literals, not with create(): every
 * stored message becomes one per recipient's entry on the hot path, and
 * create()'s walk over the schema was among the largest costs there
 * (docs/performance.md). The generated types name every field, so a field
 * added to the proto fails to compile here until it is filled in;
 * convert.test.ts checks these equal what create() makes.
 */
export function toMessage(m: StoredMessage): Message {
  const message: Message = {
    $typeName: "parley.chat.v1.Message",
    messageId: m.messageId,
    conversationId: m.conversationId,
    senderId: m.senderId,
    senderDeviceId: m.senderDeviceId,
    clientMsgId: m.clientMsgId,
    text: m.text,
    deleted: m.deletedAt !== undefined,
    reactions: m.reactions ? m.reactions.map(toReactionCount) : [],
    mentionedUserIds: m.mentionedUserIds ?? [],
  };
  // Message fields are set only when present: an absent one is not written (explicit presence).
  if (m.system) message.system = fromBinary(SystemEventSchema, m.system);
  message.createdAt = timestampOf(m.createdAt);
  if (m.editedAt) message.editedAt = timestampOf(m.editedAt);
  if (m.deletedAt) message.deletedAt = timestampOf(m.deletedAt);
  if (m.replyTo) message.replyTo = toQuoted(m.replyTo);
  return message;
}

/** timestampFromDate as a literal (see toMessage). */
function timestampOf(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

export function toSearchHit(hit: SearchHit): SearchHitMessage {
  return create(SearchHitSchema, { message: toMessage(hit.message), snippet: hit.snippet.text, highlights: hit.snippet.highlights });
}

function toQuoted(q: QuotedMessage): QuotedMessageProto {
  return create(QuotedMessageSchema, { messageId: q.messageId, senderId: q.senderId, textPreview: q.preview, deleted: q.deleted, unavailable: q.unavailable });
}

export function toReactionCount(r: ReactionCount): ReactionCountMessage {
  return create(ReactionCountSchema, { emoji: r.emoji, count: r.count, mine: r.mine });
}

export function toConversation(c: ConversationRecord): Conversation {
  return create(ConversationSchema, {
    conversationId: c.id,
    kind: c.kind === "direct" ? ConversationKind.DIRECT : ConversationKind.GROUP,
    name: c.name,
    members: c.members.map((m) => ({ userId: m.userId, role: ROLES[m.role], joinedAt: timestampFromDate(m.joinedAt) })),
    ...(c.settings ? { settings: { historyVisibleToNewMembers: c.settings.historyVisibleToNewMembers } } : {}),
    createdAt: timestampFromDate(c.createdAt),
  });
}

export function toInboxEntry(e: InboxEntry): InboxEntryMessage {
  return { $typeName: "parley.chat.v1.InboxEntry", seq: e.seq, item: toItem(e.item) };
}

function toItem(item: InboxItem): InboxEntryMessage["item"] {
  switch (item.kind) {
    case "message":
      return { case: "message", value: toMessage(item.message) };
    case "read": {
      const { conversationId, userId, messageId, readAt } = item.read;
      return { case: "read", value: create(ReadReceiptSchema, { conversationId, userId, messageId, readAt: timestampFromDate(readAt) }) };
    }
    case "edited":
      return { case: "edited", value: create(MessageEditedSchema, { message: toMessage(item.message) }) };
    case "deleted": {
      const { conversationId, messageId, forEveryone, byUserId, at } = item.deletion;
      return {
        case: "deleted",
        value: create(MessageDeletedSchema, { conversationId, messageId, forEveryone, byUserId, deletedAt: timestampFromDate(at) }),
      };
    }
    case "reacted": {
      const { conversationId, messageId, byUserId, emoji, removed, at, counts } = item.reaction;
      return {
        case: "reacted",
        value: create(MessageReactedSchema, {
          conversationId,
          messageId,
          byUserId,
          emoji,
          removed,
          reactedAt: timestampFromDate(at),
          reactions: counts.map(toReactionCount),
        }),
      };
    }
  }
}

export function toSummary(s: ConversationSummary): SummaryMessage {
  return create(ConversationSummarySchema, {
    conversation: toConversation(s.conversation),
    ...(s.lastMessage ? { lastMessage: toMessage(s.lastMessage) } : {}),
    unreadCount: s.unreadCount,
    lastReadMessageId: s.lastReadMessageId,
    unreadMentions: s.unreadMentions,
  });
}
