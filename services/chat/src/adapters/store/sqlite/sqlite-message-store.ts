import type { Procedures, SqliteEngine } from "@parley/relational";
import {
  ConversationMissingError,
  MessageChangeRefused,
  NotAMemberError,
  type ConversationRecord,
  type ConversationSummary,
  type GroupChange,
  type GroupWritten,
  type NewGroup,
  type InboxEntry,
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
} from "../../../ports.js";
import { checkSystemMessage } from "../sql-steps.js";
import type * as changeProcedures from "./change-procedures.js";
import type { ChangeResult } from "./change-procedures.js";
import type * as conversationProcedures from "./conversation-procedures.js";
import type * as reactionProcedures from "./reaction-procedures.js";
import type * as readProcedures from "./read-procedures.js";
import type * as replyProcedures from "./reply-procedures.js";
import { fingerprint, toOutcome, type Refusal, type SendResult } from "./results.js";
import type * as searchProcedures from "./search-procedures.js";
import type * as sendProcedures from "./send-procedures.js";
import { Turns } from "./turns.js";

/**
 * The message store on SQLite: each method is one call of a procedure in
 * the engine's worker thread, one transaction that no other call
 * interleaves with (see ./inbox-writer.ts for how that keeps seqs
 * gap-free). This class, on the thread that serves sockets, only builds the
 * port's records and errors from what the procedures return.
 *
 * updateGroup is the one method that takes two calls, because decide() is
 * a function of the caller and cannot cross into the worker: it reads the
 * group, decides here, and applies the change in one transaction that
 * refuses it if the group changed in between (then it decides again).
 * Changes to one group also take turns here, so concurrent ones do not
 * keep refusing each other.
 */
export class SqliteMessageStore implements MessageStore {
  /** The worker runs calls in the order they were made, so batches of one conversation may overlap (MessageStore.appendsInOrder). */
  readonly appendsInOrder = true;
  private readonly send: Procedures<typeof sendProcedures>;
  private readonly conversations: Procedures<typeof conversationProcedures>;
  private readonly reads: Procedures<typeof readProcedures>;
  private readonly changes: Procedures<typeof changeProcedures>;
  private readonly search: Procedures<typeof searchProcedures>;
  private readonly reactions: Procedures<typeof reactionProcedures>;
  private readonly replies: Procedures<typeof replyProcedures>;
  private readonly groupTurns = new Turns<bigint>();

  constructor(engine: SqliteEngine) {
    this.send = engine.procedures<typeof sendProcedures>(new URL("./send-procedures.js", import.meta.url));
    this.conversations = engine.procedures<typeof conversationProcedures>(new URL("./conversation-procedures.js", import.meta.url));
    this.reads = engine.procedures<typeof readProcedures>(new URL("./read-procedures.js", import.meta.url));
    this.changes = engine.procedures<typeof changeProcedures>(new URL("./change-procedures.js", import.meta.url));
    this.search = engine.procedures<typeof searchProcedures>(new URL("./search-procedures.js", import.meta.url));
    this.reactions = engine.procedures<typeof reactionProcedures>(new URL("./reaction-procedures.js", import.meta.url));
    this.replies = engine.procedures<typeof replyProcedures>(new URL("./reply-procedures.js", import.meta.url));
  }

  openDirect(userA: bigint, userB: bigint, newId: bigint): Promise<ConversationRecord> {
    return this.conversations.openDirect(userA, userB, newId);
  }

  getConversation(id: bigint): Promise<ConversationRecord | undefined> {
    return this.conversations.getConversation(id);
  }

  async createGroup(input: NewGroup): Promise<GroupWritten> {
    checkSystemMessage(input.id, input.systemMessage);
    const { conversation, stored } = await this.conversations.createGroup(input);
    return { conversation, outcome: toOutcome(input.systemMessage, stored) };
  }

  updateGroup(conversationId: bigint, decide: (current: ConversationRecord) => GroupChange): Promise<GroupWritten> {
    return this.groupTurns.run(conversationId, async () => {
      // Another store on the same engine may change the group between the read and the write: then decide again.
      for (let attempt = 1; ; attempt++) {
        const current = await this.conversations.getConversation(conversationId);
        if (current === undefined) throw new ConversationMissingError(`conversation ${conversationId} does not exist`);
        const seen = fingerprint(current);
        const change = decide(current);
        checkSystemMessage(conversationId, change.systemMessage);
        const result = await this.conversations.applyGroupChange(conversationId, seen, change);
        if (result === "missing") throw new ConversationMissingError(`conversation ${conversationId} does not exist`);
        if (result !== "changed") return { conversation: result.conversation, outcome: toOutcome(change.systemMessage, result.stored) };
        if (attempt === 100) throw new Error(`conversation ${conversationId} kept changing while a group change was decided`);
      }
    });
  }

  async append(message: StoredMessage, recipients?: readonly bigint[]): Promise<SendOutcome> {
    return outcomeOrThrow(message, await this.send.append(message, recipients));
  }

  async appendBatch(messages: readonly StoredMessage[]): Promise<(SendOutcome | Error)[]> {
    if (messages.length === 0) return [];
    // Repeats of a (sender, clientMsgId) within the batch get their first's outcome and do not cross to the worker.
    const firstOf = new Map<string, number>();
    const fresh: StoredMessage[] = [];
    const slots = new Array<number>(messages.length);
    const repeatOf = new Array<number | undefined>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.system !== undefined || m.senderId === 0n) throw new Error("appendBatch takes user messages only; system messages go through append");
      const key = m.clientMsgId === "" ? undefined : `${m.senderId}\u0000${m.clientMsgId}`;
      const first = key === undefined ? undefined : firstOf.get(key);
      if (first !== undefined) {
        repeatOf[i] = first;
        continue;
      }
      if (key !== undefined) firstOf.set(key, i);
      slots[i] = fresh.length;
      fresh.push(m);
    }
    const results = await this.send.appendBatch(fresh);
    const outcomes = new Array<SendOutcome | Error>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const first = repeatOf[i];
      if (first === undefined) {
        outcomes[i] = outcomeOrError(messages[i]!, results[slots[i]!]!);
      } else {
        const original = outcomes[first]!;
        outcomes[i] = original instanceof Error ? original : { message: original.message, senderSeq: original.senderSeq, duplicate: true, entries: [] };
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
    return this.reads.history(conversationId, beforeMessageId, limit, notBeforeMessageId, viewerId);
  }

  async editMessage(edit: MessageEdit): Promise<MessageChangeOutcome> {
    return changed(await this.changes.editMessage(edit));
  }

  async deleteMessage(deletion: MessageDeletion): Promise<MessageChangeOutcome> {
    return changed(await this.changes.deleteMessage(deletion));
  }

  async react(reaction: MessageReaction): Promise<ReactionOutcome> {
    const result = await this.reactions.react(reaction);
    if ("refused" in result) throw new MessageChangeRefused(result.refused);
    return result;
  }

  reactionsOf(messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, ReactionCount[]>> {
    return this.reactions.reactionsOf(messages, viewerId);
  }

  replyTarget(conversationId: bigint, messageId: bigint, userId: bigint): Promise<ReplyTarget> {
    return this.replies.replyTarget(conversationId, messageId, userId);
  }

  quotesOf(messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, QuotedMessage>> {
    return this.replies.quotesOf(messages, viewerId);
  }

  inbox(userId: bigint, afterSeq: bigint, limit: number): Promise<InboxEntry[]> {
    return this.reads.inbox(userId, afterSeq, limit);
  }

  searchMessages(search: MessageSearch): Promise<StoredMessage[]> {
    return this.search.searchMessages(search);
  }

  headSeq(userId: bigint): Promise<bigint> {
    return this.reads.headSeq(userId);
  }

  setCursor(userId: bigint, deviceId: bigint, seq: bigint): Promise<bigint> {
    return this.reads.setCursor(userId, deviceId, seq);
  }

  getCursor(userId: bigint, deviceId: bigint): Promise<bigint> {
    return this.reads.getCursor(userId, deviceId);
  }

  async markRead(
    conversationId: bigint,
    userId: bigint,
    messageId: bigint,
    at: Date,
    recipients: readonly bigint[],
  ): Promise<{ advanced: boolean; entries: InboxEntry[] }> {
    const moved = await this.reads.markRead(conversationId, userId, messageId, at.getTime(), recipients);
    if (moved === undefined) return { advanced: false, entries: [] };
    const item = { kind: "read" as const, read: { conversationId, userId, messageId, readAt: at } };
    return { advanced: true, entries: moved.users.map((user, i) => ({ userId: user, seq: moved.seqs[i]!, item })) };
  }

  receipts(conversationId: bigint, messageId: bigint): Promise<Receipt[]> {
    return this.reads.receipts(conversationId, messageId);
  }

  unreadCount(conversationId: bigint, userId: bigint): Promise<number> {
    return this.reads.unreadCount(conversationId, userId);
  }

  totalUnread(userId: bigint, cap: number): Promise<number> {
    return this.reads.totalUnread(userId, cap);
  }

  listConversations(userId: bigint, limit: number, beforeActivityId?: bigint): Promise<ConversationSummary[]> {
    return this.reads.listConversations(userId, limit, beforeActivityId);
  }
}

function changed(result: ChangeResult): MessageChangeOutcome {
  if ("refused" in result) throw new MessageChangeRefused(result.refused);
  return result;
}

function outcomeOrError(message: StoredMessage, result: SendResult): SendOutcome | Error {
  return typeof result === "string" ? refusal(message, result) : toOutcome(message, result);
}

function outcomeOrThrow(message: StoredMessage, result: SendResult): SendOutcome {
  if (typeof result === "string") throw refusal(message, result);
  return toOutcome(message, result);
}

function refusal(message: StoredMessage, reason: Refusal): Error {
  return reason === "missing"
    ? new ConversationMissingError(`conversation ${message.conversationId} does not exist`)
    : new NotAMemberError(`user ${message.senderId} is not a member of conversation ${message.conversationId}`);
}
