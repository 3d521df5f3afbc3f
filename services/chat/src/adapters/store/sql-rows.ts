import type { ConversationKind, ConversationRecord, InboxEntry, InboxItem, MemberRecord, MemberRole, StoredMessage } from "../../ports.js";

/** Row shapes of the chat schema and their mapping to the store's records (shared by SqlMessageStore). */
export const KIND_CODES: Record<ConversationKind, number> = { direct: 1, group: 2 };
export const KINDS: Record<number, ConversationKind> = { 1: "direct", 2: "group" };
export const ROLE_CODES: Record<MemberRole, number> = { member: 1, admin: 2, owner: 3 };
export const ROLES: Record<number, MemberRole> = { 1: "member", 2: "admin", 3: "owner" };
export const ENTRY_MESSAGE = 1;
export const ENTRY_READ = 2;
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
} & {
  [K in keyof MessageRow]: MessageRow[K] | null;
};

export type SummaryRow = { conversation_created_at: Date; last_activity_id: string; read_message_id: string; unread: string } & Omit<
  ConversationRow,
  "created_at"
> & {
    [K in keyof MessageRow]: MessageRow[K] | null;
  };

export const CONVERSATION_COLUMNS = "id, kind, name, created_at, history_visible, deleted";
export const MESSAGE_COLUMNS = "m.conversation_id, m.message_id, m.sender_id, m.sender_device_id, m.client_msg_id, m.text, m.system, m.created_at";

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
  };
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
  // Entries are written with their message in one transaction and messages are never deleted.
  if (row.message_id === null) throw new Error(`inbox entry ${userId}/${seq} has no stored message`);
  return { userId, seq, item: { kind: "message", message: toMessage(row as MessageRow) } };
}

export function copyMessage(message: StoredMessage): StoredMessage {
  const { system, ...rest } = message;
  return system === undefined ? rest : { ...rest, system: new Uint8Array(system) };
}
