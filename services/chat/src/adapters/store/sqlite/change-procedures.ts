/**
 * Edits and deletions (run in the SQLite worker, each call one transaction
 * that no other call interleaves with, so the checks see the state the
 * change applies to). They answer plain data: the outcome, or the refusal's
 * reason, which the adapter turns into MessageChangeRefused.
 */
import type { SqliteConnection } from "@parley/relational";
import type { InboxItem, MessageChangeOutcome, MessageChangeRefusal, MessageDeletion, MessageEdit, StoredMessage } from "../../../ports.js";
import { ENTRY_DELETED, ENTRY_DELETED_FOR_USER, ENTRY_EDITED, tombstoneFor, toEntries } from "../sql-rows.js";
import { InboxWriter } from "./inbox-writer.js";
import { target } from "./change-target.js";

export type ChangeResult = MessageChangeOutcome | { refused: MessageChangeRefusal };

const unchanged = (message: StoredMessage): MessageChangeOutcome => ({ message, changed: false, actorSeq: 0n, entries: [] });

const tooLate = (message: StoredMessage, createdNotBefore: Date | undefined) =>
  createdNotBefore !== undefined && message.createdAt.getTime() < createdNotBefore.getTime();

function recorded(db: SqliteConnection, recipients: readonly bigint[], kind: number, message: StoredMessage, actor: bigint, item: InboxItem) {
  const inbox = new InboxWriter(db);
  const seqs = new Map(recipients.map((user) => [user, inbox.changeEntry(user, kind, message.conversationId, message.messageId)] as const));
  return { message, changed: true, actorSeq: seqs.get(actor) ?? 0n, entries: toEntries(seqs, item) };
}

export function editMessage(db: SqliteConnection, edit: MessageEdit): ChangeResult {
  const found = target(db, edit.conversationId, edit.messageId, edit.userId);
  if (typeof found === "string") return { refused: found };
  const { members, message } = found;
  if (message.senderId !== edit.userId) return { refused: "not_sender" };
  if (message.deletedAt !== undefined) return { refused: "deleted" };
  if (message.text === edit.text) return unchanged(message);
  if (tooLate(message, edit.createdNotBefore)) return { refused: "too_late" };
  db.run("UPDATE messages SET text = ?, edited_at = ? WHERE conversation_id = ? AND message_id = ?", [
    edit.text,
    edit.at.getTime(),
    edit.conversationId,
    edit.messageId,
  ]);
  const edited: StoredMessage = { ...message, text: edit.text, editedAt: edit.at };
  return recorded(db, members, ENTRY_EDITED, edited, edit.userId, { kind: "edited", message: edited });
}

export function deleteMessage(db: SqliteConnection, deletion: MessageDeletion): ChangeResult {
  const { conversationId, messageId, userId, at } = deletion;
  const found = target(db, conversationId, messageId, userId);
  if (typeof found === "string") return { refused: found };
  const { members, message } = found;
  if (!deletion.forEveryone) {
    const hidden = db.run(
      `INSERT INTO hidden_messages (user_id, conversation_id, message_id, hidden_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, conversation_id, message_id) DO NOTHING`,
      [userId, conversationId, messageId, at.getTime()],
    );
    if (hidden === 0) return unchanged(tombstoneFor(message, at));
    const item: InboxItem = { kind: "deleted", deletion: { conversationId, messageId, forEveryone: false, byUserId: userId, at } };
    return recorded(db, [userId], ENTRY_DELETED_FOR_USER, tombstoneFor(message, at), userId, item);
  }
  if (message.senderId !== userId) return { refused: "not_sender" };
  if (message.deletedAt !== undefined) return unchanged(message);
  if (tooLate(message, deletion.createdNotBefore)) return { refused: "too_late" };
  // Erased, not hidden: the text is overwritten in the row (no other column or table keeps it).
  db.run("UPDATE messages SET text = '', system = NULL, edited_at = NULL, deleted_at = ? WHERE conversation_id = ? AND message_id = ?", [
    at.getTime(),
    conversationId,
    messageId,
  ]);
  const item: InboxItem = { kind: "deleted", deletion: { conversationId, messageId, forEveryone: true, byUserId: userId, at } };
  return recorded(db, members, ENTRY_DELETED, tombstoneFor(message, at), userId, item);
}
