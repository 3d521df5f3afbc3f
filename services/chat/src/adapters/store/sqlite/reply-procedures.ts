/**
 * Replies (run in the SQLite worker, each call one transaction): what a
 * reply names, for its sender, and the quotes a reader sees.
 */
import type { SqliteConnection } from "@parley/relational";
import { QUOTE_PREVIEW_CODE_POINTS, quoteOf, type MessageKey, type QuotedMessage, type ReplyTarget } from "../../../ports.js";
import { conversationExists } from "./steps.js";

interface QuotedRow {
  sender_id: bigint;
  text: string;
  deleted: bigint;
}

function quotedRow(db: SqliteConnection, conversationId: bigint, messageId: bigint): QuotedRow | undefined {
  return db.get<QuotedRow>(
    `SELECT sender_id, substr(text, 1, ${QUOTE_PREVIEW_CODE_POINTS}) AS text, deleted_at IS NOT NULL AS deleted FROM messages
     WHERE conversation_id = ? AND message_id = ?`,
    [conversationId, messageId],
  );
}

export function replyTarget(db: SqliteConnection, conversationId: bigint, messageId: bigint, userId: bigint): ReplyTarget {
  if (!conversationExists(db, conversationId)) return { kind: "no_conversation" };
  const members = db.all<{ user_id: bigint; history_from_message_id: bigint }>(
    "SELECT user_id, history_from_message_id FROM conversation_members WHERE conversation_id = ? ORDER BY user_id",
    [conversationId],
  );
  const me = members.find((m) => m.user_id === userId);
  if (me === undefined) return { kind: "not_member" };
  const row = quotedRow(db, conversationId, messageId);
  // A message before the sender's horizon is not theirs to see: as if it did not exist.
  if (row === undefined || messageId < me.history_from_message_id) return { kind: "no_message" };
  const quote = quoteOf({ messageId, senderId: row.sender_id, text: row.text, deleted: row.deleted !== 0n }, 0n, false);
  return { kind: "found", quote, blind: members.filter((m) => m.history_from_message_id > messageId).map((m) => m.user_id) };
}

/** One constant statement per quoted message, and one for the viewer's horizon and deletion for themselves. */
export function quotesOf(db: SqliteConnection, messages: readonly MessageKey[], viewerId: bigint): Map<bigint, QuotedMessage> {
  const quotes = new Map<bigint, QuotedMessage>();
  for (const { conversationId, messageId } of messages) {
    if (quotes.has(messageId)) continue;
    const row = quotedRow(db, conversationId, messageId);
    if (row === undefined) continue;
    const viewer = db.get<{ horizon: bigint | null; hidden: bigint }>(
      `SELECT (SELECT history_from_message_id FROM conversation_members WHERE conversation_id = ?1 AND user_id = ?3) AS horizon,
         EXISTS (SELECT 1 FROM hidden_messages WHERE user_id = ?3 AND conversation_id = ?1 AND message_id = ?2) AS hidden`,
      [conversationId, messageId, viewerId],
    );
    const quoted = { messageId, senderId: row.sender_id, text: row.text, deleted: row.deleted !== 0n };
    quotes.set(messageId, quoteOf(quoted, viewer?.horizon ?? 0n, (viewer?.hidden ?? 0n) !== 0n));
  }
  return quotes;
}
