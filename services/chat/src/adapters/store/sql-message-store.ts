import type { Db } from "@parley/relational";
import { appendBatchInOneStatement } from "./sql-append-batch.js";
import { deleteInTransaction, editInTransaction } from "./sql-message-changes.js";
import { searchMessages } from "./sql-search.js";
import { reactInTransaction, reactionsOf } from "./sql-message-reactions.js";
import { quotesOf, replyTarget } from "./sql-message-replies.js";
import { TurnReads } from "./sql-turn-reads.js";
import {
  ConversationMissingError,
  NotAMemberError,
  type ConversationRecord,
  type ConversationSummary,
  type GroupChange,
  type GroupWritten,
  type NewGroup,
  type InboxEntry,
  type InboxItem,
  type MessageChangeOutcome,
  type MessageDeletion,
  type MessageEdit,
  type MessageSearch,
  type MessageKey,
  type MessageReaction,
  type MessageStore,
  type QuotedMessage,
  type ReactionCount,
  type ReactionOutcome,
  type ReplyTarget,
  type Receipt,
  type SendOutcome,
  type StoredMessage,
} from "../../ports.js";
import {
  ENTRY_MESSAGE,
  ENTRY_READ,
  KIND_CODES,
  MAX_ID,
  MESSAGE_COLUMNS,
  ROLE_CODES,
  toConversation,
  toEntries,
  toInboxEntry,
  toMessage,
  uniqueSorted,
  withReactionCounts,
  type InboxRow,
  type MessageRow,
  type SummaryRow,
} from "./sql-rows.js";
import {
  loadConversation,
  loadMembers,
  memberIds,
  touchConversation,
  storeMessage,
  checkSystemMessage,
  insertMembers,
  applyGroupChange,
  claimClientMsgId,
  appendEntries,
  unread,
} from "./sql-steps.js";

/**
 * The message store on SQL: the Postgres adapter (the embedded SQLite has its own in sqlite/).
 *
 * Locks are always taken in one order, so concurrent writers cannot
 * deadlock: the (sender, client_msg_id) claim, then the conversation row,
 * then member rows, then inbox heads in ascending user id. Membership
 * changes and member-addressed sends hold the conversation row until they
 * commit, so they take turns per conversation. Seqs come from a
 * per-user head row incremented inside the writing transaction: the row lock
 * makes writers of one user take turns, and a rollback undoes the increment,
 * so seqs stay gap-free.
 */
export class SqlMessageStore implements MessageStore {
  private readonly reads: TurnReads;

  constructor(private readonly db: Db) {
    this.reads = new TurnReads(db);
  }

  async openDirect(userA: bigint, userB: bigint, newId: bigint): Promise<ConversationRecord> {
    const [low, high] = userA < userB ? [userA, userB] : [userB, userA];
    const id = await this.db.transaction(async (tx) => {
      // The pair row is the claim: a concurrent opener waits here for the winner's commit, then finds its row.
      const claimed = await tx.query<{ conversation_id: string }>(
        `INSERT INTO direct_pairs (user_low, user_high, conversation_id) VALUES ($1, $2, $3)
         ON CONFLICT (user_low, user_high) DO NOTHING RETURNING conversation_id`,
        [String(low), String(high), String(newId)],
      );
      if (claimed.rows.length === 0) {
        const existing = await tx.query<{ conversation_id: string }>("SELECT conversation_id FROM direct_pairs WHERE user_low = $1 AND user_high = $2", [
          String(low),
          String(high),
        ]);
        return BigInt(existing.rows[0]!.conversation_id);
      }
      await tx.query("INSERT INTO conversations (id, kind, last_activity_id) VALUES ($1, $2, $1)", [String(newId), KIND_CODES.direct]);
      await tx.query("INSERT INTO conversation_members (conversation_id, user_id, role) SELECT $1, u, $3 FROM unnest($2::bigint[]) AS u", [
        String(newId),
        [String(low), String(high)],
        ROLE_CODES.member,
      ]);
      return newId;
    });
    const conversation = await this.getConversation(id);
    if (conversation === undefined) throw new Error(`direct conversation ${id} vanished`);
    return conversation;
  }

  async getConversation(id: bigint): Promise<ConversationRecord | undefined> {
    return loadConversation(this.db, id, false);
  }

  async createGroup(input: NewGroup): Promise<GroupWritten> {
    checkSystemMessage(input.id, input.systemMessage);
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO conversations (id, kind, name, history_visible, last_activity_id) VALUES ($1, $2, $3, $4, GREATEST($1::bigint, $5::bigint))`,
        [String(input.id), KIND_CODES.group, input.name, input.settings.historyVisibleToNewMembers, String(input.systemMessage.messageId)],
      );
      await insertMembers(tx, input.id, input.members, 0n);
      const outcome = await storeMessage(tx, input.systemMessage, await memberIds(tx, input.id));
      return { conversation: (await loadConversation(tx, input.id, false))!, outcome };
    });
  }

  async updateGroup(conversationId: bigint, decide: (current: ConversationRecord) => GroupChange): Promise<GroupWritten> {
    return this.db.transaction(async (tx) => {
      // The row lock makes concurrent changes and member-addressed sends take turns: decide() sees what it changes.
      const current = await loadConversation(tx, conversationId, true);
      if (current === undefined) throw new ConversationMissingError(`conversation ${conversationId} does not exist`);
      const change = decide(current);
      checkSystemMessage(conversationId, change.systemMessage);
      await applyGroupChange(tx, current, change);
      await touchConversation(tx, change.systemMessage);
      const before = current.members.map((m) => m.userId);
      const outcome = await storeMessage(tx, change.systemMessage, [...before, ...(await memberIds(tx, conversationId))]);
      return { conversation: (await loadConversation(tx, conversationId, false))!, outcome };
    });
  }

  async append(message: StoredMessage, recipients?: readonly bigint[]): Promise<SendOutcome> {
    return this.db.transaction(async (tx) => {
      if (message.clientMsgId !== "") {
        const original = await claimClientMsgId(tx, message);
        if (original !== undefined) return original;
      }
      // Takes the conversation row lock first, so the members read below are the ones at commit.
      await touchConversation(tx, message);
      if (recipients !== undefined) return storeMessage(tx, message, recipients);
      const members = await memberIds(tx, message.conversationId);
      if (message.senderId !== 0n && !members.includes(message.senderId)) {
        throw new NotAMemberError(`user ${message.senderId} is not a member of conversation ${message.conversationId}`);
      }
      return storeMessage(tx, message, members);
    });
  }

  appendBatch(messages: readonly StoredMessage[]): Promise<(SendOutcome | Error)[]> {
    if (messages.length === 0) return Promise.resolve([]);
    // One statement outside an explicit transaction: atomic on its own, and one round trip.
    return appendBatchInOneStatement(this.db, messages);
  }

  async history(
    conversationId: bigint,
    beforeMessageId: bigint | undefined,
    limit: number,
    notBeforeMessageId?: bigint,
    viewerId?: bigint,
  ): Promise<StoredMessage[]> {
    const { rows } = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m
       WHERE m.conversation_id = $1 AND m.message_id < $2 AND m.message_id >= $3
         AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $5 AND h.conversation_id = m.conversation_id AND h.message_id = m.message_id)
       ORDER BY m.message_id DESC LIMIT $4`,
      [
        String(conversationId),
        beforeMessageId === undefined ? MAX_ID : String(beforeMessageId),
        String(notBeforeMessageId ?? 0n),
        limit,
        String(viewerId ?? 0n),
      ],
    );
    return rows.map(toMessage);
  }

  editMessage(edit: MessageEdit): Promise<MessageChangeOutcome> {
    return this.db.transaction((tx) => editInTransaction(tx, edit));
  }

  deleteMessage(deletion: MessageDeletion): Promise<MessageChangeOutcome> {
    return this.db.transaction((tx) => deleteInTransaction(tx, deletion));
  }

  react(reaction: MessageReaction): Promise<ReactionOutcome> {
    return this.db.transaction((tx) => reactInTransaction(tx, reaction));
  }

  reactionsOf(messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, ReactionCount[]>> {
    return reactionsOf(this.db, messages, viewerId);
  }

  replyTarget(conversationId: bigint, messageId: bigint, userId: bigint): Promise<ReplyTarget> {
    return replyTarget(this.db, conversationId, messageId, userId);
  }

  quotesOf(messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, QuotedMessage>> {
    return quotesOf(this.db, messages, viewerId);
  }

  async inbox(userId: bigint, afterSeq: bigint, limit: number): Promise<InboxEntry[]> {
    const { rows } = await this.db.query<InboxRow>(
      `SELECT i.seq, i.kind, i.conversation_id AS entry_conversation_id, i.message_id AS entry_message_id, i.reader_id, i.read_at,
         i.actor_id, i.emoji, i.acted_at, h.hidden_at, ${MESSAGE_COLUMNS}
       FROM inbox i
       LEFT JOIN messages m ON i.kind <> ${ENTRY_READ} AND m.conversation_id = i.conversation_id AND m.message_id = i.message_id
       LEFT JOIN hidden_messages h ON i.kind <> ${ENTRY_READ} AND h.user_id = i.user_id AND h.conversation_id = i.conversation_id
         AND h.message_id = i.message_id
       WHERE i.user_id = $1 AND i.seq > $2
       ORDER BY i.seq LIMIT $3`,
      [String(userId), String(afterSeq), limit],
    );
    return withReactionCounts(
      rows.map((row) => toInboxEntry(userId, row)),
      userId,
      (keys, viewer) => this.reactionsOf(keys, viewer),
    );
  }

  searchMessages(search: MessageSearch): Promise<StoredMessage[]> {
    return searchMessages(this.db, search);
  }

  headSeq(userId: bigint): Promise<bigint> {
    return this.reads.headSeq(userId);
  }

  async setCursor(userId: bigint, deviceId: bigint, seq: bigint): Promise<bigint> {
    const { rows } = await this.db.query<{ seq: string }>(
      `INSERT INTO device_cursors AS d (user_id, device_id, seq) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, device_id) DO UPDATE SET seq = GREATEST(d.seq, EXCLUDED.seq) RETURNING seq`,
      [String(userId), String(deviceId), String(seq)],
    );
    return BigInt(rows[0]!.seq);
  }

  getCursor(userId: bigint, deviceId: bigint): Promise<bigint> {
    return this.reads.cursor(userId, deviceId);
  }

  async markRead(
    conversationId: bigint,
    userId: bigint,
    messageId: bigint,
    at: Date,
    recipients: readonly bigint[],
  ): Promise<{ advanced: boolean; entries: InboxEntry[] }> {
    const users = uniqueSorted(recipients);
    return this.db.transaction(async (tx) => {
      // A concurrent lower mark waits on the row lock, then re-checks the condition against the newer marker.
      const moved = await tx.query(
        `UPDATE conversation_members SET read_message_id = $3
         WHERE conversation_id = $1 AND user_id = $2 AND read_message_id < $3`,
        [String(conversationId), String(userId), String(messageId)],
      );
      if (moved.rowCount === 0) return { advanced: false, entries: [] };
      const seqs = await appendEntries(tx, users, ENTRY_READ, conversationId, messageId, userId, at);
      const item: InboxItem = { kind: "read", read: { conversationId, userId, messageId, readAt: at } };
      return { advanced: true, entries: toEntries(seqs, item) };
    });
  }

  async receipts(conversationId: bigint, messageId: bigint): Promise<Receipt[]> {
    // Each member's entry is found by scanning their inbox (no index by message): fine for the inbox sizes we keep.
    const { rows } = await this.db.query<{ user_id: string; delivered: boolean; read: boolean }>(
      `SELECT cm.user_id, cm.read_message_id >= $2 AS read,
         EXISTS (SELECT 1 FROM inbox i JOIN device_cursors d ON d.user_id = i.user_id AND d.seq >= i.seq
                 WHERE i.user_id = cm.user_id AND i.kind = ${ENTRY_MESSAGE} AND i.conversation_id = $1 AND i.message_id = $2) AS delivered
       FROM conversation_members cm WHERE cm.conversation_id = $1 ORDER BY cm.user_id`,
      [String(conversationId), String(messageId)],
    );
    return rows.map((row) => ({ userId: BigInt(row.user_id), delivered: row.delivered, read: row.read }));
  }

  async unreadCount(conversationId: bigint, userId: bigint): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM conversation_members cm
       JOIN messages u ON u.conversation_id = cm.conversation_id
       WHERE cm.conversation_id = $1 AND cm.user_id = $2 AND ${unread("cm", "$2")}`,
      [String(conversationId), String(userId)],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async totalUnread(userId: bigint, cap: number): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM (
         SELECT 1 FROM conversation_members cm
         JOIN conversations c ON c.id = cm.conversation_id
         JOIN messages u ON u.conversation_id = cm.conversation_id
         WHERE cm.user_id = $1 AND NOT c.deleted AND ${unread("cm", "$1")}
         LIMIT $2) capped`,
      [String(userId), cap],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async listConversations(userId: bigint, limit: number, beforeActivityId?: bigint): Promise<ConversationSummary[]> {
    // The page is cut first, so the last message and unread count are computed for its rows only.
    const { rows } = await this.db.query<SummaryRow>(
      `WITH page AS (
         SELECT c.id, c.kind, c.name, c.created_at, c.history_visible, c.deleted, c.last_activity_id, cm.read_message_id, cm.history_from_message_id
         FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id
         WHERE cm.user_id = $1 AND c.last_activity_id < $2 AND NOT c.deleted
         ORDER BY c.last_activity_id DESC LIMIT $3)
       SELECT p.id, p.kind, p.name, p.created_at AS conversation_created_at, p.history_visible, p.deleted, p.last_activity_id, p.read_message_id,
         (SELECT count(*) FROM messages u WHERE u.conversation_id = p.id AND ${unread("p", "$1")}) AS unread,
         (SELECT count(*) FROM messages u WHERE u.conversation_id = p.id AND ${unread("p", "$1")}
            AND u.mentioned_user_ids @> ARRAY[$1::bigint]) AS unread_mentions,
         ${MESSAGE_COLUMNS}
       FROM page p
       LEFT JOIN LATERAL (SELECT * FROM messages l WHERE l.conversation_id = p.id
         AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $1 AND h.conversation_id = l.conversation_id AND h.message_id = l.message_id)
         ORDER BY l.message_id DESC LIMIT 1) m ON true
       ORDER BY p.last_activity_id DESC`,
      [String(userId), beforeActivityId === undefined ? MAX_ID : String(beforeActivityId), limit],
    );
    const members = await loadMembers(
      this.db,
      rows.map((row) => row.id),
    );
    return rows.map((row) => ({
      conversation: toConversation({ ...row, created_at: row.conversation_created_at }, members.get(row.id) ?? []),
      ...(row.message_id === null ? {} : { lastMessage: toMessage(row as MessageRow) }),
      unreadCount: Number(row.unread),
      unreadMentions: Number(row.unread_mentions),
      lastReadMessageId: BigInt(row.read_message_id),
      lastActivityId: BigInt(row.last_activity_id),
    }));
  }
}
