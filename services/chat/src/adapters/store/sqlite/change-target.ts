import type { SqliteConnection } from "@parley/relational";
import type { MessageChangeRefusal, StoredMessage } from "../../../ports.js";
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from "./rows.js";
import { conversationExists } from "./steps.js";

/** The checks every change of a message shares (edits, deletions, reactions), in the SQLite worker. */

export interface Target {
  members: bigint[];
  message: StoredMessage;
}

/** The members and the message after the checks every change shares, or the refusal. */
export function target(db: SqliteConnection, conversationId: bigint, messageId: bigint, userId: bigint): Target | MessageChangeRefusal {
  if (!conversationExists(db, conversationId)) return "no_conversation";
  const members = db.all<{ user_id: bigint; history_from_message_id: bigint }>(
    "SELECT user_id, history_from_message_id FROM conversation_members WHERE conversation_id = ? ORDER BY user_id",
    [conversationId],
  );
  const me = members.find((m) => m.user_id === userId);
  if (me === undefined) return "not_member";
  const row = db.get<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = ? AND m.message_id = ?`, [conversationId, messageId]);
  // A message before the user's horizon is not theirs to see: as if it did not exist.
  if (row === undefined || messageId < me.history_from_message_id) return "no_message";
  return { members: members.map((m) => m.user_id), message: toMessage(row) };
}
