import type { Db } from "@parley/relational";
import { QUOTE_PREVIEW_CODE_POINTS, quoteOf, type MessageKey, type QuotedMessage, type ReplyTarget } from "../../ports.js";

/** Replies on Postgres: what a reply names, for its sender, and the quotes a reader sees; one statement each. */

export async function replyTarget(db: Db, conversationId: bigint, messageId: bigint, userId: bigint): Promise<ReplyTarget> {
  const { rows } = await db.query<{ horizon: string | null; sender_id: string | null; text: string | null; deleted: boolean; blind: string[] }>(
    `SELECT cm.history_from_message_id AS horizon, m.sender_id, left(m.text, ${QUOTE_PREVIEW_CODE_POINTS}) AS text, m.deleted_at IS NOT NULL AS deleted,
       ARRAY(SELECT o.user_id FROM conversation_members o WHERE o.conversation_id = c.id AND o.history_from_message_id > $2) AS blind
     FROM conversations c
     LEFT JOIN conversation_members cm ON cm.conversation_id = c.id AND cm.user_id = $3
     LEFT JOIN messages m ON m.conversation_id = c.id AND m.message_id = $2
     WHERE c.id = $1`,
    [String(conversationId), String(messageId), String(userId)],
  );
  const row = rows[0];
  if (row === undefined) return { kind: "no_conversation" };
  if (row.horizon === null) return { kind: "not_member" };
  // A message before the sender's horizon is not theirs to see: as if it did not exist.
  if (row.sender_id === null || messageId < BigInt(row.horizon)) return { kind: "no_message" };
  const quote = quoteOf({ messageId, senderId: BigInt(row.sender_id), text: row.text ?? "", deleted: row.deleted }, 0n, false);
  return { kind: "found", quote, blind: row.blind.map(BigInt) };
}

export async function quotesOf(db: Db, messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, QuotedMessage>> {
  const quotes = new Map<bigint, QuotedMessage>();
  if (messages.length === 0) return quotes;
  const unique = [...new Map(messages.map((m) => [m.messageId, m])).values()];
  const { rows } = await db.query<{ message_id: string; sender_id: string; text: string; deleted: boolean; horizon: string; hidden: boolean }>(
    `SELECT m.message_id, m.sender_id, left(m.text, ${QUOTE_PREVIEW_CODE_POINTS}) AS text, m.deleted_at IS NOT NULL AS deleted,
       coalesce(cm.history_from_message_id, 0) AS horizon, h.user_id IS NOT NULL AS hidden
     FROM unnest($1::bigint[], $2::bigint[]) AS k(c, id)
     JOIN messages m ON m.conversation_id = k.c AND m.message_id = k.id
     LEFT JOIN conversation_members cm ON cm.conversation_id = k.c AND cm.user_id = $3
     LEFT JOIN hidden_messages h ON h.user_id = $3 AND h.conversation_id = k.c AND h.message_id = k.id`,
    [unique.map((m) => String(m.conversationId)), unique.map((m) => String(m.messageId)), String(viewerId)],
  );
  for (const row of rows) {
    const messageId = BigInt(row.message_id);
    quotes.set(messageId, quoteOf({ messageId, senderId: BigInt(row.sender_id), text: row.text, deleted: row.deleted }, BigInt(row.horizon), row.hidden));
  }
  return quotes;
}
