/**
 * Search (run in the SQLite worker, one call one transaction): first the
 * rows still pending move into the FTS5 index messages_search (migration 4,
 * ./search-index.ts), then the index finds the rows holding every word,
 * and the joins keep what the user can read, as Postgres's query does
 * (../sql-search.ts): a current membership of a conversation not deleted,
 * at or after the member's horizon, not deleted for everyone, not hidden by
 * the user, not a system message; newest first. A message's rowid is its
 * id (migration 6), so the index is walked newest first, below the page's
 * bound, and the walk stops at the page's end: a word in most messages
 * costs a page, not every message holding it.
 */
import type { SqliteConnection } from "@parley/relational";
import type { MessageSearch, StoredMessage } from "../../../ports.js";
import { MAX_ID, MESSAGE_COLUMNS, toMessage, type MessageRow } from "./rows.js";
import { indexPending } from "./search-index.js";

/** The query, with its parameters in searchParameters' order. */
export const SEARCH_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages_search s
  JOIN messages m ON m.rowid = s.rowid
  JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = ?1
  JOIN conversations c ON c.id = m.conversation_id AND c.deleted = 0
  WHERE messages_search MATCH ?2
    AND s.rowid < ?3 AND m.message_id >= cm.history_from_message_id
    AND (?4 = 0 OR m.conversation_id = ?4)
    AND m.deleted_at IS NULL AND m.system IS NULL
    AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ?1 AND h.conversation_id = m.conversation_id AND h.message_id = m.message_id)
  ORDER BY s.rowid DESC LIMIT ?5`;

export function searchMessages(db: SqliteConnection, search: MessageSearch): StoredMessage[] {
  // In this call's transaction: the search then sees every message acknowledged before it.
  indexPending(db);
  return db
    .all<MessageRow>(SEARCH_SQL, [search.userId, matchExpression(search.words), search.beforeMessageId ?? MAX_ID, search.conversationId ?? 0n, search.limit])
    .map(toMessage);
}

/** Every word as an FTS5 string (so no word is read as an operator such as NOT or NEAR), which FTS5 ANDs. */
export function matchExpression(words: readonly string[]): string {
  return words.map((word) => `"${word.replaceAll('"', '""')}"`).join(" ");
}
