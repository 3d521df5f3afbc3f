import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ConversationKind,
  ConversationSchema,
  ConversationSummarySchema,
  InboxEntrySchema,
  MemberRole,
  MessageDeletedSchema,
  MessageEditedSchema,
  ReadReceiptSchema,
  MessageSchema,
  SearchHitSchema,
  SystemEventSchema,
  type SearchHit as SearchHitMessage,
  type Conversation,
  type ConversationSummary as SummaryMessage,
  type InboxEntry as InboxEntryMessage,
  type Message,
} from "@parley/contracts/parley/chat/v1/chat";
import type { SearchHit } from "./domain/search.js";
import type { ConversationRecord, ConversationSummary, InboxEntry, InboxItem, MemberRole as Role, StoredMessage } from "./ports.js";

const ROLES: Record<Role, MemberRole> = { member: MemberRole.MEMBER, admin: MemberRole.ADMIN, owner: MemberRole.OWNER };

/** Domain records to contract messages. */
export function toMessage(m: StoredMessage): Message {
  return create(MessageSchema, {
    messageId: m.messageId,
    conversationId: m.conversationId,
    senderId: m.senderId,
    senderDeviceId: m.senderDeviceId,
    clientMsgId: m.clientMsgId,
    text: m.text,
    ...(m.system ? { system: fromBinary(SystemEventSchema, m.system) } : {}),
    createdAt: timestampFromDate(m.createdAt),
    ...(m.editedAt ? { editedAt: timestampFromDate(m.editedAt) } : {}),
    ...(m.deletedAt ? { deleted: true, deletedAt: timestampFromDate(m.deletedAt) } : {}),
  });
}

export function toSearchHit(hit: SearchHit): SearchHitMessage {
  return create(SearchHitSchema, { message: toMessage(hit.message), snippet: hit.snippet.text, highlights: hit.snippet.highlights });
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
  return create(InboxEntrySchema, { seq: e.seq, item: toItem(e.item) });
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
  }
}

export function toSummary(s: ConversationSummary): SummaryMessage {
  return create(ConversationSummarySchema, {
    conversation: toConversation(s.conversation),
    ...(s.lastMessage ? { lastMessage: toMessage(s.lastMessage) } : {}),
    unreadCount: s.unreadCount,
    lastReadMessageId: s.lastReadMessageId,
  });
}
