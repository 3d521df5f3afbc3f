import type { Db } from "@parley/relational";
import { MessageChangeRefused, type InboxItem, type MessageChangeOutcome, type MessageDeletion, type MessageEdit, type StoredMessage } from "../../ports.js";
import {
  ENTRY_DELETED,
  ENTRY_DELETED_FOR_USER,
  ENTRY_EDITED,
  MESSAGE_COLUMNS,
  toEntries,
  toMessage,
  tombstoneFor,
  uniqueSorted,
  type MessageRow,
} from "./sql-rows.js";
import { appendEntries } from "./sql-steps.js";

/**
 * Edits and deletions on Postgres, each one transaction (SqlMessageStore
 * runs them). Locks in the order every writer takes them: the conversation
 * row (shared: membership changes, which lock it exclusively, wait, so the
 * members read are the members at commit; sends wait only for this short
 * transaction), then the message row, then inbox heads in ascending user id
 * (appendEntries), so seqs stay gap-free as with sends.
 */

export interface Target {
  members: bigint[];
  message: StoredMessage;
}

/** The conversation's members and the message, locked, after the checks every change shares; throws MessageChangeRefused. */
export async function lockTarget(tx: Db, conversationId: bigint, messageId: bigint, userId: bigint): Promise<Target> {
  const conversation = await tx.query("SELECT 1 FROM conversations WHERE id = $1 FOR SHARE", [String(conversationId)]);
  if (conversation.rows.length === 0) throw new MessageChangeRefused("no_conversation");
  const { rows: members } = await tx.query<{ user_id: string; history_from_message_id: string }>(
    "SELECT user_id, history_from_message_id FROM conversation_members WHERE conversation_id = $1",
    [String(conversationId)],
  );
  const me = members.find((m) => BigInt(m.user_id) === userId);
  if (me === undefined) throw new MessageChangeRefused("not_member");
  const { rows } = await tx.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = $1 AND m.message_id = $2 FOR UPDATE`, [
    String(conversationId),
    String(messageId),
  ]);
  // A message before the user's horizon is not theirs to see: as if it did not exist.
  if (rows[0] === undefined || messageId < BigInt(me.history_from_message_id)) throw new MessageChangeRefused("no_message");
  return { members: members.map((m) => BigInt(m.user_id)), message: toMessage(rows[0]) };
}

const unchanged = (message: StoredMessage): MessageChangeOutcome => ({ message, changed: false, actorSeq: 0n, entries: [] });

function tooLate(message: StoredMessage, createdNotBefore: Date | undefined): boolean {
  return createdNotBefore !== undefined && message.createdAt.getTime() < createdNotBefore.getTime();
}

/** Writes one entry per recipient and builds the outcome. */
async function recorded(tx: Db, recipients: readonly bigint[], kind: number, message: StoredMessage, actor: bigint, item: InboxItem) {
  const seqs = await appendEntries(tx, uniqueSorted(recipients), kind, message.conversationId, message.messageId);
  return { message, changed: true, actorSeq: seqs.get(actor) ?? 0n, entries: toEntries(seqs, item) };
}

export async function editInTransaction(tx: Db, edit: MessageEdit): Promise<MessageChangeOutcome> {
  const { members, message } = await lockTarget(tx, edit.conversationId, edit.messageId, edit.userId);
  if (message.senderId !== edit.userId) throw new MessageChangeRefused("not_sender");
  if (message.deletedAt !== undefined) throw new MessageChangeRefused("deleted");
  if (message.text === edit.text) return unchanged(message);
  if (tooLate(message, edit.createdNotBefore)) throw new MessageChangeRefused("too_late");
  await tx.query("UPDATE messages SET text = $3, edited_at = $4 WHERE conversation_id = $1 AND message_id = $2", [
    String(edit.conversationId),
    String(edit.messageId),
    edit.text,
    edit.at,
  ]);
  const edited: StoredMessage = { ...message, text: edit.text, editedAt: edit.at };
  return recorded(tx, members, ENTRY_EDITED, edited, edit.userId, { kind: "edited", message: edited });
}

export async function deleteInTransaction(tx: Db, deletion: MessageDeletion): Promise<MessageChangeOutcome> {
  const { members, message } = await lockTarget(tx, deletion.conversationId, deletion.messageId, deletion.userId);
  const { conversationId, messageId, userId, at } = deletion;
  if (!deletion.forEveryone) {
    const hidden = await tx.query(
      `INSERT INTO hidden_messages (user_id, conversation_id, message_id, hidden_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, conversation_id, message_id) DO NOTHING RETURNING 1`,
      [String(userId), String(conversationId), String(messageId), at],
    );
    if (hidden.rows.length === 0) return unchanged(tombstoneFor(message, at));
    const item: InboxItem = { kind: "deleted", deletion: { conversationId, messageId, forEveryone: false, byUserId: userId, at } };
    return recorded(tx, [userId], ENTRY_DELETED_FOR_USER, tombstoneFor(message, at), userId, item);
  }
  if (message.senderId !== userId) throw new MessageChangeRefused("not_sender");
  if (message.deletedAt !== undefined) return unchanged(message);
  if (tooLate(message, deletion.createdNotBefore)) throw new MessageChangeRefused("too_late");
  // Erased, not hidden: the text is overwritten in the row (no other column or table keeps it).
  await tx.query("UPDATE messages SET text = '', system = NULL, edited_at = NULL, deleted_at = $3 WHERE conversation_id = $1 AND message_id = $2", [
    String(conversationId),
    String(messageId),
    at,
  ]);
  const tombstone = tombstoneFor(message, at);
  const item: InboxItem = { kind: "deleted", deletion: { conversationId, messageId, forEveryone: true, byUserId: userId, at } };
  return recorded(tx, members, ENTRY_DELETED, tombstone, userId, item);
}
