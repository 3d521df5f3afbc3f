/**
 * A test procedure run in the SQLite worker: a message row's text column as
 * stored, read past the adapter, so the changes contract can see erasure.
 */
import type { SqliteConnection } from "@parley/relational";

export function storedText(db: SqliteConnection, conversationId: bigint, messageId: bigint): string | undefined {
  return db.get<{ text: string }>("SELECT text FROM messages WHERE conversation_id = ? AND message_id = ?", [conversationId, messageId])?.text;
}
