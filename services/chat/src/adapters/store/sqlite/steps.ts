import type { SqliteConnection } from "@parley/relational";
import type { ConversationRecord, MemberRecord, MemberRole, StoredMessage } from "../../../ports.js";
import { ROLE_CODES } from "../sql-rows.js";
import type { InboxWriter } from "./inbox-writer.js";
import type { Duplicate, Stored } from "./results.js";
import {
  CONVERSATION_COLUMNS,
  MEMBER_COLUMNS,
  MESSAGE_COLUMNS,
  toConversation,
  toMember,
  toMessage,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
} from "./rows.js";

/**
 * The steps the procedures compose, run in the SQLite worker inside the
 * calling procedure's transaction. Every statement's text is constant (the
 * connection prepares it once); lists are written one row per statement.
 * The worker runs one call at a time, so there are no locks to order: a
 * procedure sees the database as no one else changes it until it returns.
 */

export function loadConversation(db: SqliteConnection, id: bigint): ConversationRecord | undefined {
  const row = db.get<ConversationRow>(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = ?`, [id]);
  return row === undefined ? undefined : toConversation(row, loadMembers(db, id));
}

/** Ordered by user id. */
export function loadMembers(db: SqliteConnection, conversationId: bigint): MemberRecord[] {
  return db
    .all<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM conversation_members WHERE conversation_id = ? ORDER BY user_id`, [conversationId])
    .map((row) => toMember(conversationId, row));
}

/** Ordered by user id (the primary key's order). */
export function memberIds(db: SqliteConnection, conversationId: bigint): bigint[] {
  return db
    .all<{ user_id: bigint }>("SELECT user_id FROM conversation_members WHERE conversation_id = ? ORDER BY user_id", [conversationId])
    .map((row) => row.user_id);
}

/** The members, ordered by user id, with their inbox heads handed to `inbox` in the same statement (the send path's one read). */
export function membersWithHeads(db: SqliteConnection, conversationId: bigint, inbox: InboxWriter): bigint[] {
  const rows = db.all<{ user_id: bigint; head_seq: bigint | null }>(
    `SELECT cm.user_id, (SELECT max(i.seq) FROM inbox i WHERE i.user_id = cm.user_id) AS head_seq FROM conversation_members cm
     WHERE cm.conversation_id = ? ORDER BY cm.user_id`,
    [conversationId],
  );
  const ids = new Array<bigint>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    inbox.knows(row.user_id, row.head_seq);
    ids[i] = row.user_id;
  }
  return ids;
}

export function conversationExists(db: SqliteConnection, id: bigint): boolean {
  return db.get("SELECT 1 FROM conversations WHERE id = ?", [id]) !== undefined;
}

/**
 * Claims (sender, clientMsgId) for the message, recording the sender's seq
 * of it (0 when the sender gets no entry). False when the pair was claimed
 * before: the message is a repeat, and findOriginal() has the original.
 */
export function claim(db: SqliteConnection, message: StoredMessage, senderSeq: bigint): boolean {
  return (
    db.run(
      `INSERT INTO sent_messages (sender_id, client_msg_id, conversation_id, message_id, sender_seq) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (sender_id, client_msg_id) DO NOTHING`,
      [message.senderId, message.clientMsgId, message.conversationId, message.messageId, senderSeq],
    ) === 1
  );
}

/**
 * The stored original of (sender, clientMsgId), or undefined while the pair
 * is unclaimed. A claim is written in the transaction that stores its
 * message, so a claim without its message means a damaged database.
 */
export function findOriginal(db: SqliteConnection, senderId: bigint, clientMsgId: string): Duplicate | undefined {
  const row = db.get<{ sender_seq: bigint } & MessageRow>(
    `SELECT s.sender_seq, ${MESSAGE_COLUMNS} FROM sent_messages s
     LEFT JOIN messages m ON m.conversation_id = s.conversation_id AND m.message_id = s.message_id
     WHERE s.sender_id = ? AND s.client_msg_id = ?`,
    [senderId, clientMsgId],
  );
  if (row === undefined) return undefined;
  if (row.message_id === null) throw new Error(`client message ${clientMsgId} is claimed but not stored`);
  return { duplicate: toMessage(row), senderSeq: row.sender_seq };
}

/** The original of a repeat whose claim was just refused. */
export function originalOf(db: SqliteConnection, message: StoredMessage): Duplicate {
  const original = findOriginal(db, message.senderId, message.clientMsgId);
  if (original === undefined) throw new Error(`client message ${message.clientMsgId} is claimed and not found`);
  return original;
}

const INSERT_MESSAGE = insertMessage([]);

/** The message insert naming `extra` columns after the ones every message has. */
function insertMessage(extra: readonly string[]): string {
  return `INSERT INTO messages (rowid, conversation_id, message_id, sender_id, sender_device_id, client_msg_id, text, system, created_at${extra.map((c) => `, ${c}`).join("")})
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?${extra.map(() => ", ?").join("")})`;
}

/** Stores the message and gives each recipient (ascending, unique) an entry; the caller claims its client id and moves the activity. */
export function storeMessage(db: SqliteConnection, inbox: InboxWriter, message: StoredMessage, recipients: readonly bigint[]): Stored {
  const seqs = new Array<bigint>(recipients.length);
  for (let i = 0; i < recipients.length; i++) seqs[i] = inbox.messageEntry(recipients[i]!, message.conversationId, message.messageId);
  // Only a reply or a message with mentions names their columns: every other send's statement stays as it was.
  const extra = extraColumns(message);
  const values: (bigint | string | number | Uint8Array | null)[] = [
    message.messageId, // the rowid (migration 6), so search's index, keyed by rowid, walks newest first
    message.conversationId,
    message.messageId,
    message.senderId,
    message.senderDeviceId,
    message.clientMsgId,
    message.text,
    message.system ?? null,
    message.createdAt.getTime(),
  ];
  for (const [, value] of extra) values.push(value);
  db.run(extra.length === 0 ? INSERT_MESSAGE : insertMessage(extra.map(([column]) => column)), values);
  return { users: recipients as bigint[], seqs };
}

/** Members join with their history horizon; users already in the conversation are left as they are. */
export function insertMembers(
  db: SqliteConnection,
  conversationId: bigint,
  members: readonly { userId: bigint; role: MemberRole }[],
  historyFrom: bigint,
  joinedAt: number,
): void {
  for (const member of members) {
    db.run(
      `INSERT INTO conversation_members (conversation_id, user_id, role, joined_at, history_from_message_id) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (conversation_id, user_id) DO NOTHING`,
      [conversationId, member.userId, ROLE_CODES[member.role], joinedAt, historyFrom],
    );
  }
}

/** The columns only replies and messages with mentions fill, with their values (none for any other message). */
function extraColumns(message: StoredMessage): [string, bigint | string][] {
  const extra: [string, bigint | string][] = [];
  if (message.replyToMessageId !== undefined) extra.push(["reply_to_message_id", message.replyToMessageId]);
  if (message.mentionedUserIds !== undefined && message.mentionedUserIds.length > 0)
    extra.push(["mentioned_user_ids", `,${message.mentionedUserIds.join(",")},`]);
  return extra;
}
