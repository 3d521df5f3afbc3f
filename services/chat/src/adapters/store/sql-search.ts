import type { Db } from "@parley/relational";
import type { MessageSearch, StoredMessage } from "../../ports.js";
import { MAX_ID, MESSAGE_COLUMNS, toMessage, type MessageRow } from "./sql-rows.js";

/**
 * The search query on Postgres: the GIN index messages_text_search
 * (migration 6) finds the rows holding every word (plainto_tsquery ANDs
 * them), and the joins keep only what the user can read: a current
 * membership of a conversation not deleted, at or after the member's
 * history horizon, not deleted for everyone (whose text is '' anyway), not
 * hidden by the user, not a system message. Newest first by message id.
 *
 * Its cost follows how many messages of the whole store hold the words,
 * not only the user's (the index knows no users); the planner may instead
 * walk a small conversation's messages when a conversation is given. Fine
 * for the mid-size deployments the SQL store is for; a large one searches
 * elsewhere (docs/architecture.md, "Search").
 */
export const SEARCH_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages m
  JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = $1
  JOIN conversations c ON c.id = m.conversation_id AND NOT c.deleted
  WHERE to_tsvector('simple', m.text) @@ plainto_tsquery('simple', $2)
    AND m.message_id < $3 AND m.message_id >= cm.history_from_message_id
    AND ($4::bigint = 0 OR m.conversation_id = $4::bigint)
    AND m.deleted_at IS NULL AND m.system IS NULL
    AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $1 AND h.conversation_id = m.conversation_id AND h.message_id = m.message_id)
  ORDER BY m.message_id DESC LIMIT $5`;

export function searchParameters(search: MessageSearch): unknown[] {
  return [
    String(search.userId),
    search.words.join(" "),
    search.beforeMessageId === undefined ? MAX_ID : String(search.beforeMessageId),
    String(search.conversationId ?? 0n),
    search.limit,
  ];
}

export async function searchMessages(db: Pick<Db, "query">, search: MessageSearch): Promise<StoredMessage[]> {
  const { rows } = await db.query<MessageRow>(SEARCH_SQL, searchParameters(search));
  return rows.map(toMessage);
}
