import {
  ConversationMissingError,
  MessageChangeRefused,
  type InboxItem,
  type MessageChangeOutcome,
  type MessageDeletion,
  type MessageEdit,
  type StoredMessage,
} from "../../../ports.js";
import { toEntries, tombstoneFor, uniqueSorted } from "../sql-rows.js";
import { monthOf } from "./buckets.js";
import { currentState } from "./conversations.js";
import { completeMessage, type Writer } from "./message-writes.js";
import { READ_COLUMNS, toMessage } from "./rows.js";
import { claimSeq, ENTRY_DELETED, ENTRY_DELETED_FOR_USER, ENTRY_EDITED, type EntryRef } from "./seq-claim.js";

/**
 * Edits and deletions on Cassandra (docs/architecture.md, "Message store on
 * Cassandra"). The change itself is one lightweight transaction on the
 * message row (IF deleted_at = null: an edit never revives a deleted
 * message, and a deletion happens once), or on the user's hidden_messages
 * row; then each recipient's entry is claimed as markRead claims its read
 * entries. Not atomic across the two: a process dying in between leaves the
 * change stored (history and sync show it) with some recipients' entries
 * missing, and a repeat of the request finds nothing to change, as with a
 * read marker.
 */

const table = (w: Writer, name: string) => `${w.cql.keyspace}.${name}`;

interface Target {
  members: bigint[];
  message: StoredMessage;
}

/** The members and the (complete) message after the checks every change shares; throws MessageChangeRefused. */
export async function target(w: Writer, conversationId: bigint, messageId: bigint, userId: bigint): Promise<Target> {
  const state = await currentState(w, conversationId).catch((err: unknown) => {
    if (err instanceof ConversationMissingError) throw new MessageChangeRefused("no_conversation");
    throw err;
  });
  if (!state.roles.has(userId)) throw new MessageChangeRefused("not_member");
  const [row] = await w.cql.serialRead(
    `SELECT ${READ_COLUMNS}, complete FROM ${table(w, "messages")} WHERE conversation_id = ? AND month = ? AND message_id = ?`,
    [conversationId, monthOf(messageId), messageId],
  );
  // A message before the user's horizon is not theirs to see: as if it did not exist.
  if (row === undefined || messageId < (state.historyFrom.get(userId) ?? 0n)) throw new MessageChangeRefused("no_message");
  // A message still being stored is finished first, so its entries come before the change's in every inbox.
  if (row.complete !== true) await completeMessage(w, conversationId, messageId);
  return { members: [...state.roles.keys()], message: toMessage(row) };
}

const unchanged = (message: StoredMessage): MessageChangeOutcome => ({ message, changed: false, actorSeq: 0n, entries: [] });

const tooLate = (message: StoredMessage, createdNotBefore: Date | undefined) =>
  createdNotBefore !== undefined && message.createdAt.getTime() < createdNotBefore.getTime();

/** The change's entry in every recipient's inbox (found again, not doubled, by a repeat; see sameEntry). */
export async function recorded(w: Writer, recipients: readonly bigint[], ref: EntryRef, message: StoredMessage, actor: bigint, item: InboxItem) {
  const users = uniqueSorted(recipients);
  const floors = await w.inbox.heads(users);
  const seqs = await Promise.all(
    users.map(async (user) => {
      const { seq } = await claimSeq(w.inbox, user, floors.get(user) ?? 0n, ref);
      await w.inbox.advanceHead(user, seq);
      return [user, seq] as const;
    }),
  );
  const byUser = new Map(seqs);
  return { message, changed: true, actorSeq: byUser.get(actor) ?? 0n, entries: toEntries(byUser, item) };
}

export async function editMessage(w: Writer, edit: MessageEdit): Promise<MessageChangeOutcome> {
  const { conversationId, messageId, userId, text, at } = edit;
  const { members, message } = await target(w, conversationId, messageId, userId);
  if (message.senderId !== userId) throw new MessageChangeRefused("not_sender");
  if (message.deletedAt !== undefined) throw new MessageChangeRefused("deleted");
  if (message.text === text) return unchanged(message);
  if (tooLate(message, edit.createdNotBefore)) throw new MessageChangeRefused("too_late");
  const applied = await w.cql.lwt(
    `UPDATE ${table(w, "messages")} SET text = ?, edited_at = ? WHERE conversation_id = ? AND month = ? AND message_id = ? IF deleted_at = null`,
    [text, at, conversationId, monthOf(messageId), messageId],
  );
  if (!applied.applied) throw new MessageChangeRefused("deleted");
  const edited: StoredMessage = { ...message, text, editedAt: at };
  const ref: EntryRef = { kind: ENTRY_EDITED, conversationId, messageId, readerId: userId, readAt: at };
  return recorded(w, members, ref, edited, userId, { kind: "edited", message: edited });
}

export async function deleteMessage(w: Writer, deletion: MessageDeletion): Promise<MessageChangeOutcome> {
  const { conversationId, messageId, userId, at } = deletion;
  const { members, message } = await target(w, conversationId, messageId, userId);
  if (!deletion.forEveryone) {
    const hidden = await w.cql.lwt(
      `INSERT INTO ${table(w, "hidden_messages")} (user_id, conversation_id, message_id, hidden_at) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
      [userId, conversationId, messageId, at],
    );
    if (!hidden.applied) return unchanged(tombstoneFor(message, at));
    const item: InboxItem = { kind: "deleted", deletion: { conversationId, messageId, forEveryone: false, byUserId: userId, at } };
    const ref: EntryRef = { kind: ENTRY_DELETED_FOR_USER, conversationId, messageId };
    return recorded(w, [userId], ref, tombstoneFor(message, at), userId, item);
  }
  if (message.senderId !== userId) throw new MessageChangeRefused("not_sender");
  if (message.deletedAt !== undefined) return unchanged(message);
  if (tooLate(message, deletion.createdNotBefore)) throw new MessageChangeRefused("too_late");
  // Erased, not hidden: the text cell is overwritten (Cassandra drops the old cell at compaction; see docs/architecture.md).
  const applied = await w.cql.lwt(
    `UPDATE ${table(w, "messages")} SET text = '', system = null, edited_at = null, deleted_at = ?
     WHERE conversation_id = ? AND month = ? AND message_id = ? IF deleted_at = null`,
    [at, conversationId, monthOf(messageId), messageId],
  );
  if (!applied.applied) return unchanged(tombstoneFor(message, at));
  const item: InboxItem = { kind: "deleted", deletion: { conversationId, messageId, forEveryone: true, byUserId: userId, at } };
  return recorded(w, members, { kind: ENTRY_DELETED, conversationId, messageId }, tombstoneFor(message, at), userId, item);
}
