import {
  ConversationMissingError,
  NotAMemberError,
  SearchUnavailableError,
  type ConversationRecord,
  type ConversationSummary,
  type GroupChange,
  type GroupWritten,
  type InboxEntry,
  type MessageChangeOutcome,
  type MessageDeletion,
  type MessageEdit,
  type MessageSearch,
  type MessageKey,
  type MessageReaction,
  type MessageStore,
  type NewGroup,
  type QuotedMessage,
  type ReactionCount,
  type ReactionOutcome,
  type ReplyTarget,
  type Receipt,
  type SendOutcome,
  type StoredMessage,
} from "../../../ports.js";
import { toEntries, uniqueSorted, withReactionCounts } from "../sql-rows.js";
import { connectCassandra, type CassandraSettings, type Cql } from "./cql.js";
import * as conversations from "./conversations.js";
import * as changes from "./message-changes.js";
import * as reactions from "./message-reactions.js";
import * as replies from "./message-replies.js";
import { CassandraInbox } from "./inbox.js";
import { claimClientMsgId, messageExists, originalOf, releaseClientMsgId, storeNewMessage, type Writer } from "./message-writes.js";
import * as reads from "./reads.js";
import { createSchema } from "./schema.js";
import { claimSeq, ENTRY_READ } from "./seq-claim.js";

/** A writer's lease on a message it stores: far above an append's duration, and what a repeat waits at most after a crash. */
const DEFAULT_LEASE_MS = 10_000;

/**
 * The message store on Cassandra (docs/architecture.md, "Message store on
 * Cassandra"). Every promise of the port holds except those that need a
 * transaction across partitions; the design section lists those and what
 * stands in for them (steps that are each safe to die after, finished by the
 * next writer). Written against cassandra-driver 4.10 and its contract
 * suites run only when CASSANDRA_CONTACT_POINTS is set.
 */
export class CassandraMessageStore implements MessageStore {
  private readonly w: Writer;

  constructor(
    private readonly cql: Cql,
    leaseMs = DEFAULT_LEASE_MS,
  ) {
    this.w = { cql, inbox: new CassandraInbox(cql), leaseMs };
  }

  /** Connects, creates what is missing of the schema, and returns the store. */
  static async open(settings: CassandraSettings): Promise<CassandraMessageStore> {
    const cql = await connectCassandra(settings);
    try {
      await createSchema(cql, settings.localDataCenter, settings.replicationFactor);
    } catch (err) {
      await cql.close();
      throw err;
    }
    return new CassandraMessageStore(cql);
  }

  close(): Promise<void> {
    return this.cql.close();
  }

  openDirect(userA: bigint, userB: bigint, newId: bigint): Promise<ConversationRecord> {
    return conversations.openDirect(this.w, userA, userB, newId);
  }

  getConversation(id: bigint): Promise<ConversationRecord | undefined> {
    return conversations.loadConversation(this.w, id);
  }

  createGroup(input: NewGroup): Promise<GroupWritten> {
    return conversations.createGroup(this.w, input);
  }

  updateGroup(conversationId: bigint, decide: (current: ConversationRecord) => GroupChange): Promise<GroupWritten> {
    return conversations.updateGroup(this.w, conversationId, decide);
  }

  async append(message: StoredMessage, recipients?: readonly bigint[]): Promise<SendOutcome> {
    // Every refusal comes before the first write, so a refused send leaves nothing, no claim either.
    let to: readonly bigint[];
    if (recipients === undefined) {
      const state = await conversations.currentState(this.w, message.conversationId);
      if (message.senderId !== 0n && !state.roles.has(message.senderId)) {
        // As on SQL, where the claim comes first: a repeat of a message stored before the sender left gets its original.
        const original = message.clientMsgId === "" ? undefined : await originalOf(this.w, message);
        if (original !== undefined) return original;
        throw new NotAMemberError(`user ${message.senderId} is not a member of conversation ${message.conversationId}`);
      }
      to = [...state.roles.keys()];
    } else {
      if ((await conversations.loadState(this.w, message.conversationId, false)) === undefined) {
        throw new ConversationMissingError(`conversation ${message.conversationId} does not exist`);
      }
      to = recipients;
    }
    if (message.clientMsgId !== "") {
      const original = await claimClientMsgId(this.w, message);
      if (original !== undefined) return original;
    }
    const stored = await storeNewMessage(this.w, message, to);
    if (stored !== "taken") return stored;
    if (message.clientMsgId !== "") await releaseClientMsgId(this.w, message);
    throw new Error(`message id ${message.messageId} is taken in conversation ${message.conversationId}`);
  }

  /**
   * The messages appended one after another, in order. Not one transaction:
   * a taken message id is looked for before anything is written, so it fails
   * the batch whole unless another writer takes the id in between.
   */
  async appendBatch(messages: readonly StoredMessage[]): Promise<(SendOutcome | Error)[]> {
    for (const m of messages) {
      if (m.system !== undefined || m.senderId === 0n) throw new Error("appendBatch takes user messages only; system messages go through append");
    }
    const taken = await Promise.all(messages.map((m) => messageExists(this.w, m.conversationId, m.messageId)));
    const first = taken.indexOf(true);
    if (first >= 0) throw new Error(`message id ${messages[first]!.messageId} is taken in conversation ${messages[first]!.conversationId}`);
    const outcomes: (SendOutcome | Error)[] = [];
    for (const message of messages) {
      try {
        outcomes.push(await this.append(message));
      } catch (err) {
        if (!(err instanceof NotAMemberError || err instanceof ConversationMissingError)) throw err;
        outcomes.push(err);
      }
    }
    return outcomes;
  }

  history(
    conversationId: bigint,
    beforeMessageId: bigint | undefined,
    limit: number,
    notBeforeMessageId?: bigint,
    viewerId?: bigint,
  ): Promise<StoredMessage[]> {
    return reads.history(this.w, conversationId, beforeMessageId, limit, notBeforeMessageId, viewerId);
  }

  editMessage(edit: MessageEdit): Promise<MessageChangeOutcome> {
    return changes.editMessage(this.w, edit);
  }

  deleteMessage(deletion: MessageDeletion): Promise<MessageChangeOutcome> {
    return changes.deleteMessage(this.w, deletion);
  }

  react(reaction: MessageReaction): Promise<ReactionOutcome> {
    return reactions.react(this.w, reaction);
  }

  reactionsOf(messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, ReactionCount[]>> {
    return reactions.reactionsOf(this.w, messages, viewerId);
  }

  replyTarget(conversationId: bigint, messageId: bigint, userId: bigint): Promise<ReplyTarget> {
    return replies.replyTarget(this.w, conversationId, messageId, userId);
  }

  quotesOf(messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, QuotedMessage>> {
    return replies.quotesOf(this.w, messages, viewerId);
  }

  async inbox(userId: bigint, afterSeq: bigint, limit: number): Promise<InboxEntry[]> {
    const entries = await reads.inboxEntries(this.w, await this.w.inbox.rowsAfter(userId, afterSeq, limit), userId);
    return withReactionCounts(entries, userId, (keys, viewer) => this.reactionsOf(keys, viewer));
  }

  /**
   * Cassandra has no full-text search: refused, reading nothing. A
   * Cassandra deployment gets search from a search engine fed by the
   * delivery stream (docs/architecture.md, "Search").
   */
  searchMessages(_search: MessageSearch): Promise<StoredMessage[]> {
    return Promise.reject(new SearchUnavailableError("Cassandra"));
  }

  headSeq(userId: bigint): Promise<bigint> {
    return this.w.inbox.headSeq(userId);
  }

  async setCursor(userId: bigint, deviceId: bigint, seq: bigint): Promise<bigint> {
    const t = `${this.cql.keyspace}.device_cursors`;
    for (;;) {
      const moved = await this.cql.lwt(`UPDATE ${t} SET seq = ? WHERE user_id = ? AND device_id = ? IF seq < ?`, [seq, userId, deviceId, seq]);
      if (moved.applied) return seq;
      const current = moved.row?.seq;
      if (typeof current === "bigint") return current;
      const created = await this.cql.lwt(`INSERT INTO ${t} (user_id, device_id, seq) VALUES (?, ?, ?) IF NOT EXISTS`, [userId, deviceId, seq]);
      if (created.applied) return seq;
    }
  }

  async getCursor(userId: bigint, deviceId: bigint): Promise<bigint> {
    const [row] = await this.cql.read(`SELECT seq FROM ${this.cql.keyspace}.device_cursors WHERE user_id = ? AND device_id = ?`, [userId, deviceId]);
    return typeof row?.seq === "bigint" ? row.seq : 0n;
  }

  async markRead(
    conversationId: bigint,
    userId: bigint,
    messageId: bigint,
    at: Date,
    recipients: readonly bigint[],
  ): Promise<{ advanced: boolean; entries: InboxEntry[] }> {
    const state = await conversations.loadState(this.w, conversationId, false);
    if (state === undefined || !state.roles.has(userId) || !(await this.moveMarker(conversationId, userId, messageId))) return { advanced: false, entries: [] };
    // Not atomic with the marker: a process dying here leaves some recipients without the read entry (the marker is right).
    const users = uniqueSorted(recipients);
    const floors = await this.w.inbox.heads(users);
    const ref = { kind: ENTRY_READ, conversationId, messageId, readerId: userId, readAt: at } as const;
    const seqs = await Promise.all(
      users.map(async (user) => {
        const { seq } = await claimSeq(this.w.inbox, user, floors.get(user) ?? 0n, ref);
        await this.w.inbox.advanceHead(user, seq);
        return [user, seq] as const;
      }),
    );
    return { advanced: true, entries: toEntries(new Map(seqs), { kind: "read", read: { conversationId, userId, messageId, readAt: at } }) };
  }

  /** Moves the member's marker forward only (compare-and-set); false when it is already there or past. */
  private async moveMarker(conversationId: bigint, userId: bigint, messageId: bigint): Promise<boolean> {
    const t = `${this.cql.keyspace}.read_markers`;
    for (;;) {
      const moved = await this.cql.lwt(`UPDATE ${t} SET read_message_id = ? WHERE conversation_id = ? AND user_id = ? IF read_message_id < ?`, [
        messageId,
        conversationId,
        userId,
        messageId,
      ]);
      if (moved.applied) return true;
      if (typeof moved.row?.read_message_id === "bigint") return false;
      const created = await this.cql.lwt(`INSERT INTO ${t} (conversation_id, user_id, read_message_id) VALUES (?, ?, ?) IF NOT EXISTS`, [
        conversationId,
        userId,
        messageId,
      ]);
      if (created.applied) return true;
    }
  }

  receipts(conversationId: bigint, messageId: bigint): Promise<Receipt[]> {
    return reads.receipts(this.w, conversationId, messageId);
  }

  async unreadCount(conversationId: bigint, userId: bigint): Promise<number> {
    const state = await conversations.loadState(this.w, conversationId, false);
    if (state === undefined || state.deleted) return 0;
    return reads.unread(this.w, state, userId, await reads.readMarkerOf(this.w, conversationId, userId), Number.MAX_SAFE_INTEGER);
  }

  totalUnread(userId: bigint, cap: number): Promise<number> {
    return reads.totalUnread(this.w, userId, cap);
  }

  listConversations(userId: bigint, limit: number, beforeActivityId?: bigint): Promise<ConversationSummary[]> {
    return reads.listConversations(this.w, userId, limit, beforeActivityId);
  }
}
