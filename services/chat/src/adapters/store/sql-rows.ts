import type {
  ConversationKind,
  ConversationRecord,
  InboxEntry,
  InboxItem,
  MemberRecord,
  MemberRole,
  MessageKey,
  ReactionCount,
  StoredMessage,
} from "../../ports.js";

/** Row shapes of the chat schema and their mapping to the store's records (shared by SqlMessageStore). */
export const KIND_CODES: Record<ConversationKind, number> = { direct: 1, group: 2 };
export const KINDS: Record<number, ConversationKind> = { 1: "direct", 2: "group" };
export const ROLE_CODES: Record<MemberRole, number> = { member: 1, admin: 2, owner: 3 };
export const ROLES: Record<number, MemberRole> = { 1: "member", 2: "admin", 3: "owner" };
export const ENTRY_MESSAGE = 1;
export const ENTRY_READ = 2;
export const ENTRY_EDITED = 3;
export const ENTRY_DELETED = 4;
export const ENTRY_DELETED_FOR_USER = 5;
export const ENTRY_REACTED = 6;
export const ENTRY_UNREACTED = 7;
/** Stands in for "no upper bound" so that range conditions stay plain index ranges. */
export const MAX_ID = "9223372036854775807";

export interface MessageRow {
  conversation_id: string;
  message_id: string;
  sender_id: string;
  sender_device_id: string;
  client_msg_id: string;
  text: string;
  system: Uint8Array | null;
  created_at: Date;
  /** Absent from rows of queries that do not select them (parley_append_batch's). */
  edited_at?: Date | null;
  deleted_at?: Date | null;
  reply_to_message_id?: string | null;
  mentioned_user_ids?: string[] | null;
}

export interface ConversationRow {
  id: string;
  kind: number;
  name: string;
  created_at: Date;
  history_visible: boolean;
  deleted: boolean;
}

export interface MemberRow {
  conversation_id: string;
  user_id: string;
  role: number;
  joined_at: Date;
  read_message_id: string;
  history_from_message_id: string;
}

export type InboxRow = {
  seq: string;
  kind: number;
  entry_conversation_id: string;
  entry_message_id: string;
  reader_id: string | null;
  read_at: Date | null;
  /** When the inbox's user deleted the entry's message for themselves (null: they did not). */
  hidden_at: Date | null;
  /** Reaction entries: who reacted, the emoji, when. */
  actor_id: string | null;
  emoji: string | null;
  acted_at: Date | null;
} & {
  [K in keyof MessageRow]: MessageRow[K] | null;
};

export type SummaryRow = {
  conversation_created_at: Date;
  last_activity_id: string;
  read_message_id: string;
  unread: string;
  unread_mentions: string;
} & Omit<ConversationRow, "created_at"> & {
    [K in keyof MessageRow]: MessageRow[K] | null;
  };

export const CONVERSATION_COLUMNS = "id, kind, name, created_at, history_visible, deleted";
export const MESSAGE_COLUMNS =
  "m.conversation_id, m.message_id, m.sender_id, m.sender_device_id, m.client_msg_id, m.text, m.system, m.created_at, m.edited_at, m.deleted_at, m.reply_to_message_id, m.mentioned_user_ids";

export function uniqueSorted(ids: readonly bigint[]): bigint[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function toEntries(seqs: Map<bigint, bigint>, item: InboxItem): InboxEntry[] {
  return [...seqs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([userId, seq]) => ({ userId, seq, item }));
}

export function toConversation(row: ConversationRow, members: MemberRecord[]): ConversationRecord {
  const kind = KINDS[row.kind];
  if (kind === undefined) throw new Error(`conversation ${row.id} has unknown kind ${row.kind}`);
  const settings = { historyVisibleToNewMembers: row.history_visible };
  return {
    id: BigInt(row.id),
    kind,
    name: row.name,
    createdAt: row.created_at,
    members,
    ...(kind === "group" ? { settings } : {}),
    deleted: row.deleted,
  };
}

export function toRole(row: MemberRow): MemberRole {
  const role = ROLES[row.role];
  if (role === undefined) throw new Error(`member ${row.user_id} of ${row.conversation_id} has unknown role ${row.role}`);
  return role;
}

export function toMessage(row: MessageRow): StoredMessage {
  return {
    messageId: BigInt(row.message_id),
    conversationId: BigInt(row.conversation_id),
    senderId: BigInt(row.sender_id),
    senderDeviceId: BigInt(row.sender_device_id),
    clientMsgId: row.client_msg_id,
    text: row.text,
    // pg returns a Buffer: callers get a plain Uint8Array, as from the SQLite adapter.
    ...(row.system === null ? {} : { system: new Uint8Array(row.system) }),
    createdAt: row.created_at,
    ...(row.edited_at ? { editedAt: row.edited_at } : {}),
    ...(row.deleted_at ? { deletedAt: row.deleted_at } : {}),
    ...(row.reply_to_message_id ? { replyToMessageId: BigInt(row.reply_to_message_id) } : {}),
    ...(row.mentioned_user_ids && row.mentioned_user_ids.length > 0 ? { mentionedUserIds: row.mentioned_user_ids.map(BigInt) } : {}),
  };
}

/** A message as a user who deleted it for themselves sees it: a tombstone, as one deleted for everyone. */
export function tombstoneFor(message: StoredMessage, at: Date): StoredMessage {
  const { system: _system, editedAt: _editedAt, ...rest } = message;
  return { ...rest, text: "", deletedAt: message.deletedAt ?? at };
}

/**
 * An inbox entry of kind edited, deleted or deleted-for-the-user from its
 * row's codes and its message as it stands now (`hiddenAt`: the user deleted
 * it for themselves then). Shared by both SQL adapters.
 */
export function changeItem(kind: number, message: StoredMessage, userId: bigint, hiddenAt: Date | undefined): InboxItem {
  const seen = hiddenAt === undefined ? message : tombstoneFor(message, hiddenAt);
  const { conversationId, messageId } = message;
  if (kind === ENTRY_EDITED) return { kind: "edited", message: seen };
  if (kind === ENTRY_DELETED) {
    // Deletions are never undone, so the row keeps its deleted_at.
    return { kind: "deleted", deletion: { conversationId, messageId, forEveryone: true, byUserId: message.senderId, at: message.deletedAt ?? new Date(0) } };
  }
  if (kind === ENTRY_DELETED_FOR_USER) {
    return { kind: "deleted", deletion: { conversationId, messageId, forEveryone: false, byUserId: userId, at: hiddenAt ?? new Date(0) } };
  }
  return { kind: "message", message: seen };
}

export function toInboxEntry(userId: bigint, row: InboxRow): InboxEntry {
  const seq = BigInt(row.seq);
  if (row.kind === ENTRY_READ) {
    const read = {
      conversationId: BigInt(row.entry_conversation_id),
      // The schema's CHECK guarantees both for read entries.
      userId: BigInt(row.reader_id!),
      messageId: BigInt(row.entry_message_id),
      readAt: row.read_at!,
    };
    return { userId, seq, item: { kind: "read", read } };
  }
  if (row.kind === ENTRY_REACTED || row.kind === ENTRY_UNREACTED) {
    const at = row.acted_at!;
    return {
      userId,
      seq,
      item: reactionItem(row.kind, BigInt(row.entry_conversation_id), BigInt(row.entry_message_id), BigInt(row.actor_id!), row.emoji!, at),
    };
  }
  // Entries are written with their message in one transaction and message rows are never deleted (a deletion erases the text only).
  if (row.message_id === null) throw new Error(`inbox entry ${userId}/${seq} has no stored message`);
  return { userId, seq, item: changeItem(row.kind, toMessage(row as MessageRow), userId, row.hidden_at ?? undefined) };
}

export function copyMessage(message: StoredMessage): StoredMessage {
  const { system, ...rest } = message;
  return system === undefined ? rest : { ...rest, system: new Uint8Array(system) };
}

/** A reaction entry (kind 6 or 7) with no counts yet: the inbox read fills them in (withReactionCounts). Shared by both SQL adapters. */
export function reactionItem(kind: number, conversationId: bigint, messageId: bigint, byUserId: bigint, emoji: string, at: Date): InboxItem {
  return { kind: "reacted", reaction: { conversationId, messageId, byUserId, emoji, removed: kind === ENTRY_UNREACTED, at, counts: [] } };
}

/** The entries with each reacted entry's counts as they stand now, from one read of them (none when there is no reacted entry). */
export async function withReactionCounts(
  entries: InboxEntry[],
  userId: bigint,
  reactionsOf: (messages: MessageKey[], viewerId: bigint) => Promise<Map<bigint, ReactionCount[]>>,
): Promise<InboxEntry[]> {
  const keys = entries.flatMap((e) =>
    e.item.kind === "reacted" ? [{ conversationId: e.item.reaction.conversationId, messageId: e.item.reaction.messageId }] : [],
  );
  if (keys.length === 0) return entries;
  const counts = await reactionsOf(keys, userId);
  return entries.map((e) =>
    e.item.kind === "reacted" ? { ...e, item: { kind: "reacted", reaction: { ...e.item.reaction, counts: counts.get(e.item.reaction.messageId) ?? [] } } } : e,
  );
}
