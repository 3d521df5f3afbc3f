/**
 * Reading procedures (run in the SQLite worker, each call one transaction):
 * history, inboxes, cursors, read markers, receipts, unread counts and the
 * conversation list.
 */
import type { SqliteConnection } from "@parley/relational";
import type { ConversationSummary, InboxEntry, Receipt, StoredMessage } from "../../../ports.js";
import { ENTRY_MESSAGE, ENTRY_READ, uniqueSorted } from "../sql-rows.js";
import {
  MAX_ID,
  MESSAGE_COLUMNS,
  toConversation,
  toInboxEntry,
  toMessage,
  type ConversationRow,
  type InboxRow,
  type MessageRow,
  type Nullable,
} from "./rows.js";
import { headOf, InboxWriter } from "./inbox-writer.js";
import { reactionsOf } from "./reaction-procedures.js";
import { loadMembers } from "./steps.js";

/** The entries with each reacted entry's counts as they stand now. */
function withCounts(db: SqliteConnection, userId: bigint, entries: InboxEntry[]): InboxEntry[] {
  const keys = entries.flatMap((e) => (e.item.kind === "reacted" ? [e.item.reaction] : []));
  if (keys.length === 0) return entries;
  const counts = reactionsOf(db, keys, userId);
  return entries.map((e) =>
    e.item.kind === "reacted" ? { ...e, item: { kind: "reacted", reaction: { ...e.item.reaction, counts: counts.get(e.item.reaction.messageId) ?? [] } } } : e,
  );
}

/** With `viewerId`, the messages that user deleted for themselves are left out. */
export function history(
  db: SqliteConnection,
  conversationId: bigint,
  beforeMessageId: bigint | undefined,
  limit: number,
  notBeforeMessageId: bigint | undefined,
  viewerId: bigint | undefined,
): StoredMessage[] {
  return db
    .all<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m
       WHERE m.conversation_id = ? AND m.message_id < ? AND m.message_id >= ?
         AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ? AND h.conversation_id = m.conversation_id AND h.message_id = m.message_id)
       ORDER BY m.message_id DESC LIMIT ?`,
      [conversationId, beforeMessageId ?? MAX_ID, notBeforeMessageId ?? 0n, viewerId ?? 0n, limit],
    )
    .map(toMessage);
}

export function inbox(db: SqliteConnection, userId: bigint, afterSeq: bigint, limit: number): InboxEntry[] {
  return withCounts(db, userId, inboxRows(db, userId, afterSeq, limit));
}

function inboxRows(db: SqliteConnection, userId: bigint, afterSeq: bigint, limit: number): InboxEntry[] {
  return db
    .all<InboxRow>(
      `SELECT i.seq, i.kind, i.conversation_id AS entry_conversation_id, i.message_id AS entry_message_id, i.reader_id, i.read_at,
         i.actor_id, i.emoji, i.acted_at, h.hidden_at, ${MESSAGE_COLUMNS}
       FROM inbox i
       LEFT JOIN messages m ON i.kind <> ${ENTRY_READ} AND m.conversation_id = i.conversation_id AND m.message_id = i.message_id
       LEFT JOIN hidden_messages h ON i.kind <> ${ENTRY_READ} AND h.user_id = i.user_id AND h.conversation_id = i.conversation_id
         AND h.message_id = i.message_id
       WHERE i.user_id = ? AND i.seq > ?
       ORDER BY i.seq LIMIT ?`,
      [userId, afterSeq, limit],
    )
    .map((row) => toInboxEntry(userId, row));
}

export function headSeq(db: SqliteConnection, userId: bigint): bigint {
  return headOf(db, userId);
}

export function setCursor(db: SqliteConnection, userId: bigint, deviceId: bigint, seq: bigint): bigint {
  return db.get<{ seq: bigint }>(
    `INSERT INTO device_cursors (user_id, device_id, seq) VALUES (?, ?, ?)
     ON CONFLICT (user_id, device_id) DO UPDATE SET seq = max(seq, excluded.seq) RETURNING seq`,
    [userId, deviceId, seq],
  )!.seq;
}

export function getCursor(db: SqliteConnection, userId: bigint, deviceId: bigint): bigint {
  return db.get<{ seq: bigint }>("SELECT seq FROM device_cursors WHERE user_id = ? AND device_id = ?", [userId, deviceId])?.seq ?? 0n;
}

/** Moves the marker forward only; when it moved, one "read" entry per recipient. Returns their seqs, ascending by user id, or undefined. */
export function markRead(
  db: SqliteConnection,
  conversationId: bigint,
  userId: bigint,
  messageId: bigint,
  readAt: number,
  recipients: readonly bigint[],
): { users: bigint[]; seqs: bigint[] } | undefined {
  const moved = db.run("UPDATE conversation_members SET read_message_id = ? WHERE conversation_id = ? AND user_id = ? AND read_message_id < ?", [
    messageId,
    conversationId,
    userId,
    messageId,
  ]);
  if (moved === 0) return undefined;
  const users = uniqueSorted(recipients);
  const inbox = new InboxWriter(db);
  const seqs = users.map((user) => inbox.readEntry(user, conversationId, messageId, userId, readAt));
  return { users, seqs };
}

export function receipts(db: SqliteConnection, conversationId: bigint, messageId: bigint): Receipt[] {
  // Each member's entry is found by scanning their inbox (no index by message): fine for the inbox sizes we keep.
  return db
    .all<{ user_id: bigint; delivered: bigint; read: bigint }>(
      `SELECT cm.user_id, cm.read_message_id >= ?2 AS read,
         EXISTS (SELECT 1 FROM inbox i JOIN device_cursors d ON d.user_id = i.user_id AND d.seq >= i.seq
                 WHERE i.user_id = cm.user_id AND i.kind = ${ENTRY_MESSAGE} AND i.conversation_id = ?1 AND i.message_id = ?2) AS delivered
       FROM conversation_members cm WHERE cm.conversation_id = ?1 ORDER BY cm.user_id`,
      [conversationId, messageId],
    )
    .map((row) => ({ userId: row.user_id, delivered: row.delivered !== 0n, read: row.read !== 0n }));
}

/**
 * Unread, for messages aliased `u` and the reader's membership row aliased
 * `member`: after the read marker, not before the member's history horizon
 * (none of that is theirs to read), not the reader's own, not system
 * messages (sender 0).
 */
function unread(member: string, reader: string): string {
  // Deleted messages (for everyone) are not news either.
  return `u.message_id > ${member}.read_message_id AND u.message_id >= ${member}.history_from_message_id AND u.sender_id <> ${reader} AND u.sender_id <> 0 AND u.deleted_at IS NULL`;
}

export function unreadCount(db: SqliteConnection, conversationId: bigint, userId: bigint): number {
  const row = db.get<{ n: bigint }>(
    `SELECT count(*) AS n FROM conversation_members cm
     JOIN messages u ON u.conversation_id = cm.conversation_id
     WHERE cm.conversation_id = ?1 AND cm.user_id = ?2 AND ${unread("cm", "?2")}`,
    [conversationId, userId],
  );
  return Number(row?.n ?? 0n);
}

export function totalUnread(db: SqliteConnection, userId: bigint, cap: number): number {
  const row = db.get<{ n: bigint }>(
    `SELECT count(*) AS n FROM (
       SELECT 1 FROM conversation_members cm
       JOIN conversations c ON c.id = cm.conversation_id
       JOIN messages u ON u.conversation_id = cm.conversation_id
       WHERE cm.user_id = ?1 AND c.deleted = 0 AND ${unread("cm", "?1")}
       LIMIT ?2)`,
    [userId, cap],
  );
  return Number(row?.n ?? 0n);
}

type SummaryRow = ConversationRow & { last_activity_id: bigint; read_message_id: bigint; unread: bigint; unread_mentions: bigint } & Nullable<{
    [K in keyof MessageRow as `m_${K}`]: MessageRow[K];
  }>;

/**
 * The page is cut first, so the last message and unread count are computed
 * for its rows only. A conversation's activity is its newest message (a
 * seek to the end of its key), or its creation when it has none: sends do
 * not write it anywhere, one page fewer in every commit. The column
 * last_activity_id keeps the creation (and, in files from before, the
 * activity it was moved to, never above the newest message).
 */
export function listConversations(db: SqliteConnection, userId: bigint, limit: number, beforeActivityId: bigint | undefined): ConversationSummary[] {
  const rows = db.all<SummaryRow>(
    `WITH mine AS (
       SELECT c.id, c.kind, c.name, c.created_at, c.history_visible, c.deleted, cm.read_message_id, cm.history_from_message_id,
         max(c.last_activity_id, coalesce((SELECT max(l.message_id) FROM messages l WHERE l.conversation_id = c.id), 0)) AS last_activity_id
       FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id
       WHERE cm.user_id = ?1 AND c.deleted = 0),
     page AS (SELECT * FROM mine WHERE last_activity_id < ?2 ORDER BY last_activity_id DESC LIMIT ?3)
     SELECT p.id, p.kind, p.name, p.created_at, p.history_visible, p.deleted, p.last_activity_id, p.read_message_id,
       (SELECT count(*) FROM messages u WHERE u.conversation_id = p.id AND ${unread("p", "?1")}) AS unread,
       (SELECT count(*) FROM messages u WHERE u.conversation_id = p.id AND ${unread("p", "?1")}
          AND instr(u.mentioned_user_ids, ',' || ?1 || ',') > 0) AS unread_mentions,
       m.conversation_id AS m_conversation_id, m.message_id AS m_message_id, m.sender_id AS m_sender_id, m.sender_device_id AS m_sender_device_id,
       m.client_msg_id AS m_client_msg_id, m.text AS m_text, m.system AS m_system, m.created_at AS m_created_at,
       m.edited_at AS m_edited_at, m.deleted_at AS m_deleted_at, m.reply_to_message_id AS m_reply_to_message_id,
       m.mentioned_user_ids AS m_mentioned_user_ids
     FROM page p
     LEFT JOIN messages m ON m.conversation_id = p.id
       AND m.message_id = (SELECT l.message_id FROM messages l WHERE l.conversation_id = p.id
         AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ?1 AND h.conversation_id = l.conversation_id AND h.message_id = l.message_id)
         ORDER BY l.message_id DESC LIMIT 1)
     ORDER BY p.last_activity_id DESC`,
    [userId, beforeActivityId ?? MAX_ID, limit],
  );
  return rows.map((row) => ({
    conversation: toConversation(row, loadMembers(db, row.id)),
    ...(row.m_message_id === null ? {} : { lastMessage: toMessage(lastMessageOf(row)) }),
    unreadCount: Number(row.unread),
    unreadMentions: Number(row.unread_mentions),
    lastReadMessageId: row.read_message_id,
    lastActivityId: row.last_activity_id,
  }));
}

function lastMessageOf(row: SummaryRow): MessageRow {
  return {
    conversation_id: row.m_conversation_id!,
    message_id: row.m_message_id!,
    sender_id: row.m_sender_id!,
    sender_device_id: row.m_sender_device_id!,
    client_msg_id: row.m_client_msg_id!,
    text: row.m_text!,
    system: row.m_system,
    created_at: row.m_created_at!,
    edited_at: row.m_edited_at,
    deleted_at: row.m_deleted_at,
    reply_to_message_id: row.m_reply_to_message_id,
    mentioned_user_ids: row.m_mentioned_user_ids,
  };
}
