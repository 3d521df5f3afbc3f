import type { Db } from "@parley/relational";
import type { ConversationRecord, GroupChange, InboxItem, MemberRecord, MemberRole, SendOutcome, StoredMessage } from "../../ports.js";
import {
  CONVERSATION_COLUMNS,
  ENTRY_MESSAGE,
  MESSAGE_COLUMNS,
  ROLE_CODES,
  copyMessage,
  toConversation,
  toEntries,
  toMessage,
  toRole,
  uniqueSorted,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
} from "./sql-rows.js";

/** The transaction steps SqlMessageStore composes: each one statement or a small group of them. */

/** The conversation with its members; `lock` takes its row lock for the rest of the transaction. */
export async function loadConversation(db: Db, id: bigint, lock: boolean): Promise<ConversationRecord | undefined> {
  const { rows } = await db.query<ConversationRow>(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1${lock ? " FOR UPDATE" : ""}`, [String(id)]);
  if (rows[0] === undefined) return undefined;
  const members = await loadMembers(db, [rows[0].id]);
  return toConversation(rows[0], members.get(rows[0].id) ?? []);
}

/** Members of each conversation, by conversation id (as text), ordered by user id. */
export async function loadMembers(db: Db, conversationIds: readonly string[]): Promise<Map<string, MemberRecord[]>> {
  const byConversation = new Map<string, MemberRecord[]>();
  if (conversationIds.length === 0) return byConversation;
  const { rows } = await db.query<MemberRow>(
    `SELECT conversation_id, user_id, role, joined_at, read_message_id, history_from_message_id FROM conversation_members
     WHERE conversation_id = ANY($1::bigint[]) ORDER BY conversation_id, user_id`,
    [conversationIds],
  );
  for (const row of rows) {
    const member: MemberRecord = {
      userId: BigInt(row.user_id),
      role: toRole(row),
      joinedAt: row.joined_at,
      readMessageId: BigInt(row.read_message_id),
      historyFromMessageId: BigInt(row.history_from_message_id),
    };
    const list = byConversation.get(row.conversation_id);
    if (list === undefined) byConversation.set(row.conversation_id, [member]);
    else list.push(member);
  }
  return byConversation;
}

export async function memberIds(tx: Db, conversationId: bigint): Promise<bigint[]> {
  const { rows } = await tx.query<{ user_id: string }>("SELECT user_id FROM conversation_members WHERE conversation_id = $1", [String(conversationId)]);
  return rows.map((row) => BigInt(row.user_id));
}

/** Moves the conversation's activity to the message, taking its row lock; throws when the conversation does not exist. */
export async function touchConversation(tx: Db, message: StoredMessage): Promise<void> {
  const touched = await tx.query("UPDATE conversations SET last_activity_id = GREATEST(last_activity_id, $2) WHERE id = $1", [
    String(message.conversationId),
    String(message.messageId),
  ]);
  if (touched.rowCount === 0) throw new Error(`conversation ${message.conversationId} does not exist`);
}

/**
 * Stores the message and gives each recipient (duplicates count once) an
 * entry; records the sender's seq on their de-duplication claim.
 */
export async function storeMessage(tx: Db, message: StoredMessage, recipients: readonly bigint[]): Promise<SendOutcome> {
  const stored = copyMessage(message);
  const seqs = await appendEntries(tx, uniqueSorted(recipients), ENTRY_MESSAGE, message.conversationId, message.messageId);
  // Only a reply or a message with mentions names their columns: every other send's statement stays as it was.
  const extra = extraColumns(message);
  await tx.query(
    `INSERT INTO messages (conversation_id, message_id, sender_id, sender_device_id, client_msg_id, text, system, created_at${extra.map(([c]) => `, ${c}`).join("")})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8${extra.map((_, i) => `, $${9 + i}`).join("")})`,
    [
      String(message.conversationId),
      String(message.messageId),
      String(message.senderId),
      String(message.senderDeviceId),
      message.clientMsgId,
      message.text,
      message.system === undefined ? null : Buffer.from(message.system),
      message.createdAt,
      ...extra.map(([, value]) => value),
    ],
  );
  const senderSeq = seqs.get(message.senderId) ?? 0n;
  if (message.clientMsgId !== "" && senderSeq !== 0n) {
    await tx.query("UPDATE sent_messages SET sender_seq = $3 WHERE sender_id = $1 AND client_msg_id = $2", [
      String(message.senderId),
      message.clientMsgId,
      String(senderSeq),
    ]);
  }
  const item: InboxItem = { kind: "message", message: stored };
  return { message: stored, senderSeq, duplicate: false, entries: toEntries(seqs, item) };
}

export function checkSystemMessage(conversationId: bigint, message: StoredMessage): void {
  if (message.conversationId !== conversationId || message.senderId !== 0n || message.clientMsgId !== "") {
    throw new Error(`a group's system message must be in conversation ${conversationId}, from sender 0, with no client id`);
  }
}

/** Members join with their history horizon; users already in the group are left as they are. */
export async function insertMembers(
  tx: Db,
  conversationId: bigint,
  members: readonly { userId: bigint; role: MemberRole }[],
  historyFrom: bigint,
): Promise<void> {
  if (members.length === 0) return;
  await tx.query(
    `INSERT INTO conversation_members (conversation_id, user_id, role, history_from_message_id)
     SELECT $1, a.u, a.r, $4 FROM unnest($2::bigint[], $3::smallint[]) AS a(u, r)
     ON CONFLICT (conversation_id, user_id) DO NOTHING`,
    [String(conversationId), members.map((m) => String(m.userId)), members.map((m) => ROLE_CODES[m.role]), String(historyFrom)],
  );
}

/** Applies a decided change to the locked group: removals, then additions, then roles, name and settings. */
export async function applyGroupChange(tx: Db, current: ConversationRecord, change: GroupChange): Promise<void> {
  const id = String(current.id);
  if (change.delete === true) {
    await tx.query("UPDATE conversations SET deleted = true WHERE id = $1", [id]);
    await tx.query("DELETE FROM conversation_members WHERE conversation_id = $1", [id]);
    return;
  }
  const historyVisible = (change.settings ?? current.settings)?.historyVisibleToNewMembers ?? false;
  await tx.query("UPDATE conversations SET name = $2, history_visible = $3 WHERE id = $1", [id, change.name ?? current.name, historyVisible]);
  if (change.remove !== undefined && change.remove.length > 0) {
    await tx.query("DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = ANY($2::bigint[])", [id, change.remove.map(String)]);
  }
  await insertMembers(tx, current.id, change.add ?? [], historyVisible ? 0n : change.systemMessage.messageId);
  if (change.roles !== undefined && change.roles.length > 0) {
    await tx.query(
      `UPDATE conversation_members cm SET role = r.role FROM unnest($2::bigint[], $3::smallint[]) AS r(user_id, role)
       WHERE cm.conversation_id = $1 AND cm.user_id = r.user_id`,
      [id, change.roles.map((r) => String(r.userId)), change.roles.map((r) => ROLE_CODES[r.role])],
    );
  }
}

/**
 * Claims (sender, client_msg_id) for this transaction. A concurrent claimant
 * waits for the holder's commit and then sees the stored original; undefined
 * means this transaction owns the claim and must store the message.
 */
export async function claimClientMsgId(tx: Db, message: StoredMessage): Promise<SendOutcome | undefined> {
  const sender = String(message.senderId);
  const claimed = await tx.query(
    `INSERT INTO sent_messages (sender_id, client_msg_id, conversation_id, message_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (sender_id, client_msg_id) DO NOTHING RETURNING 1`,
    [sender, message.clientMsgId, String(message.conversationId), String(message.messageId)],
  );
  if (claimed.rows.length > 0) return undefined;
  const { rows } = await tx.query<MessageRow & { sender_seq: string }>(
    `SELECT s.sender_seq, ${MESSAGE_COLUMNS} FROM sent_messages s
     JOIN messages m ON m.conversation_id = s.conversation_id AND m.message_id = s.message_id
     WHERE s.sender_id = $1 AND s.client_msg_id = $2`,
    [sender, message.clientMsgId],
  );
  if (rows[0] === undefined) throw new Error(`client message ${message.clientMsgId} is claimed but not stored`);
  return { message: toMessage(rows[0]), senderSeq: BigInt(rows[0].sender_seq), duplicate: true, entries: [] };
}

/**
 * Gives each user (sorted, unique) their next seq and writes their entry, in
 * one statement: the head rows are locked in ascending user id, the order
 * every writer follows.
 */
export async function appendEntries(
  tx: Db,
  users: readonly bigint[],
  kind: number,
  conversationId: bigint,
  messageId: bigint,
  readerId?: bigint,
  readAt?: Date,
): Promise<Map<bigint, bigint>> {
  const seqs = new Map<bigint, bigint>();
  if (users.length === 0) return seqs;
  const { rows } = await tx.query<{ user_id: string; seq: string }>(
    `WITH heads AS (
       INSERT INTO inbox_heads AS h (user_id, head_seq)
       SELECT u, 1 FROM unnest($1::bigint[]) AS u ORDER BY u
       ON CONFLICT (user_id) DO UPDATE SET head_seq = h.head_seq + 1
       RETURNING h.user_id, h.head_seq)
     INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id, reader_id, read_at)
     SELECT user_id, head_seq, $2, $3, $4, $5::bigint, $6::timestamptz FROM heads
     RETURNING user_id, seq`,
    [users.map(String), kind, String(conversationId), String(messageId), readerId === undefined ? null : String(readerId), readAt ?? null],
  );
  for (const row of rows) seqs.set(BigInt(row.user_id), BigInt(row.seq));
  return seqs;
}

/** Unread, for messages aliased `u` and the reader's membership row aliased `member`: after the read marker, not before the member's history horizon, not the reader's own, not system messages (sender 0). */
export function unread(member: string, reader: string): string {
  // A member sees nothing from before their history horizon, so none of it can be unread.
  // Deleted messages (for everyone) are not news either.
  return `u.message_id > ${member}.read_message_id AND u.message_id >= ${member}.history_from_message_id AND u.sender_id <> ${reader} AND u.sender_id <> 0 AND u.deleted_at IS NULL`;
}

/** The columns only replies and messages with mentions fill, with their values (none for any other message). */
function extraColumns(message: StoredMessage): [string, unknown][] {
  const extra: [string, unknown][] = [];
  if (message.replyToMessageId !== undefined) extra.push(["reply_to_message_id", String(message.replyToMessageId)]);
  if (message.mentionedUserIds !== undefined && message.mentionedUserIds.length > 0) extra.push(["mentioned_user_ids", message.mentionedUserIds.map(String)]);
  return extra;
}
