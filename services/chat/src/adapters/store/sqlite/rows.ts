import type { ConversationRecord, InboxEntry, MemberRecord, StoredMessage } from "../../../ports.js";
import { changeItem, ENTRY_REACTED, ENTRY_READ, ENTRY_UNREACTED, KINDS, reactionItem, ROLES } from "../sql-rows.js";

/**
 * Row shapes of the SQLite chat schema and their mapping to the store's
 * records. node:sqlite returns every integer as bigint (the engine sets it),
 * timestamps are milliseconds and booleans 0/1.
 */

/** Stands in for "no upper bound" so that range conditions stay plain index ranges. */
export const MAX_ID = 9223372036854775807n;

export interface MessageRow {
  conversation_id: bigint;
  message_id: bigint;
  sender_id: bigint;
  sender_device_id: bigint;
  client_msg_id: string;
  text: string;
  system: Uint8Array | null;
  created_at: bigint;
  edited_at: bigint | null;
  deleted_at: bigint | null;
  reply_to_message_id: bigint | null;
  /** ",12,34," (null: none). */
  mentioned_user_ids: string | null;
}

export interface ConversationRow {
  id: bigint;
  kind: bigint;
  name: string;
  created_at: bigint;
  history_visible: bigint;
  deleted: bigint;
}

export interface MemberRow {
  user_id: bigint;
  role: bigint;
  joined_at: bigint;
  read_message_id: bigint;
  history_from_message_id: bigint;
}

export type Nullable<T> = { [K in keyof T]: T[K] | null };

export type InboxRow = {
  seq: bigint;
  kind: bigint;
  entry_conversation_id: bigint;
  entry_message_id: bigint;
  reader_id: bigint | null;
  read_at: bigint | null;
  /** When the inbox's user deleted the entry's message for themselves (null: they did not). */
  hidden_at: bigint | null;
  /** Reaction entries: who reacted, the emoji, when. */
  actor_id: bigint | null;
  emoji: string | null;
  acted_at: bigint | null;
} & Nullable<MessageRow>;

export const CONVERSATION_COLUMNS = "id, kind, name, created_at, history_visible, deleted";
export const MEMBER_COLUMNS = "user_id, role, joined_at, read_message_id, history_from_message_id";
export const MESSAGE_COLUMNS =
  "m.conversation_id, m.message_id, m.sender_id, m.sender_device_id, m.client_msg_id, m.text, m.system, m.created_at, m.edited_at, m.deleted_at, m.reply_to_message_id, m.mentioned_user_ids";

export function toConversation(row: ConversationRow, members: MemberRecord[]): ConversationRecord {
  const kind = KINDS[Number(row.kind)];
  if (kind === undefined) throw new Error(`conversation ${row.id} has unknown kind ${row.kind}`);
  return {
    id: row.id,
    kind,
    name: row.name,
    createdAt: new Date(Number(row.created_at)),
    members,
    ...(kind === "group" ? { settings: { historyVisibleToNewMembers: row.history_visible !== 0n } } : {}),
    deleted: row.deleted !== 0n,
  };
}

export function toMember(conversationId: bigint, row: MemberRow): MemberRecord {
  const role = ROLES[Number(row.role)];
  if (role === undefined) throw new Error(`member ${row.user_id} of ${conversationId} has unknown role ${row.role}`);
  return {
    userId: row.user_id,
    role,
    joinedAt: new Date(Number(row.joined_at)),
    readMessageId: row.read_message_id,
    historyFromMessageId: row.history_from_message_id,
  };
}

export function toMessage(row: MessageRow): StoredMessage {
  return {
    messageId: row.message_id,
    conversationId: row.conversation_id,
    senderId: row.sender_id,
    senderDeviceId: row.sender_device_id,
    clientMsgId: row.client_msg_id,
    text: row.text,
    ...(row.system === null ? {} : { system: row.system }),
    createdAt: new Date(Number(row.created_at)),
    ...(row.edited_at === null ? {} : { editedAt: new Date(Number(row.edited_at)) }),
    ...(row.deleted_at === null ? {} : { deletedAt: new Date(Number(row.deleted_at)) }),
    ...(row.reply_to_message_id === null || row.reply_to_message_id === undefined ? {} : { replyToMessageId: row.reply_to_message_id }),
    ...(row.mentioned_user_ids ? { mentionedUserIds: row.mentioned_user_ids.split(",").filter(Boolean).map(BigInt) } : {}),
  };
}

export function toInboxEntry(userId: bigint, row: InboxRow): InboxEntry {
  if (row.kind === BigInt(ENTRY_READ)) {
    const read = {
      conversationId: row.entry_conversation_id,
      // The schema's CHECK guarantees both for read entries.
      userId: row.reader_id!,
      messageId: row.entry_message_id,
      readAt: new Date(Number(row.read_at!)),
    };
    return { userId, seq: row.seq, item: { kind: "read", read } };
  }
  const kind = Number(row.kind);
  if (kind === ENTRY_REACTED || kind === ENTRY_UNREACTED) {
    const at = new Date(Number(row.acted_at!));
    return { userId, seq: row.seq, item: reactionItem(kind, row.entry_conversation_id, row.entry_message_id, row.actor_id!, row.emoji!, at) };
  }
  // Entries are written with their message in one transaction and message rows are never deleted (a deletion erases the text only).
  if (row.message_id === null) throw new Error(`inbox entry ${userId}/${row.seq} has no stored message`);
  const hiddenAt = row.hidden_at === null ? undefined : new Date(Number(row.hidden_at));
  return { userId, seq: row.seq, item: changeItem(Number(row.kind), toMessage(row as MessageRow), userId, hiddenAt) };
}
