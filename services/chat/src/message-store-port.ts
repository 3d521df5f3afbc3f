import type { MessageChangeOutcome, MessageDeletion, MessageEdit } from "./message-changes.js";
import type { MessageKey, MessageReaction, ReactionCount, ReactionOutcome } from "./message-reactions.js";
import type { QuotedMessage, ReplyTarget } from "./message-replies.js";
import type { MessageSearch } from "./message-search.js";
import type { ConversationRecord, ConversationSummary, GroupChange, GroupWritten, InboxEntry, NewGroup, Receipt, SendOutcome, StoredMessage } from "./ports.js";

/**
 * The message store port: conversations and their members, each message's
 * one stored copy, and every user's inbox. Authorisation, limits and id
 * generation are the caller's job; the store keeps these promises (the
 * shared suite in test/message-store-contract.ts checks them on every adapter):
 *
 * - Atomicity: append and markRead are all-or-nothing. An acknowledged
 *   (resolved) append is durable with all its inbox entries; a failed one
 *   leaves no message, no entry and no trace in any seq.
 * - Per-user seq: every inbox entry gets its user's next seq, starting at 1,
 *   gap-free and strictly increasing by one, also under concurrent appends
 *   and markReads. Within a user's inbox the order by seq is total.
 * - Idempotent sends: (senderId, clientMsgId) is stored at most once, also
 *   under concurrent retries; a repeat returns the original message and the
 *   sender's original seq with duplicate=true and writes nothing.
 * - One direct conversation per pair of users, whatever the order of the
 *   pair and however many callers open it at once.
 * - Read markers only move forward, and unread counts never include the
 *   reader's own messages or system messages (senderId 0).
 * - Membership and sends serialise per conversation: append without explicit
 *   recipients and updateGroup lock the conversation row, so a send reaches
 *   exactly the members at its commit, and a decide() sees the state its
 *   change is applied to (which is what lets callers enforce a member cap).
 * - Ordering: history is newest first by message id (Snowflake ids, so by
 *   time); the conversation list is newest activity first.
 *
 * Preconditions: text holds no U+0000 (SQL text cannot store it; the
 * contracts' validation refuses it anyway); message ids are unique.
 *
 * The Cassandra adapter has no transaction across partitions: it keeps
 * seqs, idempotency and the group cap, but a failed append is finished by
 * its retry instead of undone, and a send reaches the members of its read
 * rather than of its commit (docs/architecture.md, "Message store on
 * Cassandra", lists each difference).
 */
export interface MessageStore {
  /** The pair's one direct conversation, created with id `newId` (both members, role "member") when absent. */
  openDirect(userA: bigint, userB: bigint, newId: bigint): Promise<ConversationRecord>;
  getConversation(id: bigint): Promise<ConversationRecord | undefined>;

  /**
   * Creates a group with its members (who may read all history) and stores
   * `systemMessage` (sender 0, empty clientMsgId) with an entry in every
   * member's inbox, in one transaction.
   */
  createGroup(input: NewGroup): Promise<GroupWritten>;
  /**
   * In one transaction: locks the conversation, calls `decide` with its
   * current state (throws ConversationMissingError first when it does not
   * exist), applies the change and stores its system message with an inbox
   * entry for everyone who was a member before or after the change. When
   * `decide` throws, nothing changes and its error is rethrown unchanged.
   * Added members get history from 0 when the group's settings (after the
   * change) make history visible, else from the system message's id.
   */
  updateGroup(conversationId: bigint, decide: (current: ConversationRecord) => GroupChange): Promise<GroupWritten>;

  /**
   * Stores the message once and appends an inbox entry to each recipient,
   * in one transaction. Without `recipients` they are the conversation's
   * members when the send commits, and a sender (other than 0) who is not
   * among them gets NotAMemberError with nothing written. With `recipients`
   * (duplicates count once; include the sender for their other devices) the
   * caller decides. Throws when the conversation does not exist or the
   * message id is taken in it.
   */
  append(message: StoredMessage, recipients?: readonly bigint[]): Promise<SendOutcome>;
  /**
   * Group commit: appends many user messages (no system messages) in one
   * transaction, as if append(message) without recipients ran for each in
   * order, and returns each one's outcome or its error (NotAMemberError,
   * ConversationMissingError) in the same order. A (sender, clientMsgId)
   * seen before, in the batch or earlier, is a duplicate as with append.
   * All or nothing like append: when the transaction fails (a database
   * error, a taken message id) it throws and nothing of the batch is stored.
   */
  appendBatch(messages: readonly StoredMessage[]): Promise<(SendOutcome | Error)[]>;
  /**
   * True when batches are stored in the order appendBatch was called, even
   * while an earlier one is still being stored (one writer taking calls in
   * turn, as SQLite's worker): a later batch may then hold messages of a
   * conversation an earlier one is storing. Absent or false (Postgres,
   * Cassandra: batches race on separate connections), the caller does not
   * overlap batches of one conversation, or a later message could take a
   * lower seq than an earlier one.
   */
  readonly appendsInOrder?: boolean;
  /**
   * Newest first: messages with id below `beforeMessageId` (undefined: from
   * the newest) and at or above `notBeforeMessageId` (a member's horizon), at most `limit`.
   * With `viewerId`, messages that user deleted for themselves are left out.
   * Messages deleted for everyone are there as tombstones (text "", deletedAt set).
   */
  history(conversationId: bigint, beforeMessageId: bigint | undefined, limit: number, notBeforeMessageId?: bigint, viewerId?: bigint): Promise<StoredMessage[]>;

  /**
   * Replaces the text of a message, all or nothing: checks, against the
   * state it changes and in this order, the conversation, that the user is
   * a member, the message (in the conversation, not before the user's
   * horizon), that the user sent it, that it is not deleted, then (when the
   * text differs) the window, throwing MessageChangeRefused with nothing
   * written. The same text again changes nothing (changed=false, no entry).
   * Otherwise overwrites the text, sets editedAt, and appends an "edited"
   * entry to every current member's inbox (their next seq, as a send does).
   */
  editMessage(edit: MessageEdit): Promise<MessageChangeOutcome>;
  /**
   * Deletes a message, all or nothing, with the checks of editMessage (the
   * sender and the window only for everyone). For everyone: the text is
   * erased from the stored row (overwritten with "", not hidden), deletedAt
   * set, and every current member gets a "deleted" entry. For the user only:
   * recorded for that user (history with their viewerId leaves it out, their
   * inbox reads show it deleted) and only their inbox gets the entry. A
   * repeat (already deleted for everyone, or for that user) changes nothing.
   */
  deleteMessage(deletion: MessageDeletion): Promise<MessageChangeOutcome>;

  /**
   * Adds or removes a user's reaction to a message, all or nothing: checks
   * the conversation, membership and the message as editMessage does, then
   * that it is not deleted for everyone ("deleted"), then, for an addition,
   * the caps of REACTION_LIMITS ("too_many_emoji", "too_many_mine"),
   * throwing MessageChangeRefused with nothing written. Changes to one
   * message's reactions take turns, so the caps hold under concurrency. A
   * reaction already there (or, removing, already absent) changes nothing.
   * Otherwise appends a "reacted" entry to every current member's inbox
   * (their next seq), each with the counts as that member sees them.
   */
  react(reaction: MessageReaction): Promise<ReactionOutcome>;
  /**
   * The current reactions of each message (absent: none), counted for
   * `viewerId`. One read for all of them; an empty list reads nothing.
   */
  reactionsOf(messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, ReactionCount[]>>;

  /**
   * What a reply's `replyToMessageId` names, for the sending user, in one
   * read: the conversation, the user's membership, the message in that
   * conversation at or after the user's history horizon, and the members to
   * whom it is before their horizon. A send that replies then goes through
   * append (which stores replyToMessageId), never appendBatch (which takes
   * messages that are not replies).
   */
  replyTarget(conversationId: bigint, messageId: bigint, userId: bigint): Promise<ReplyTarget>;
  /**
   * The quotes of the given (quoted) messages as `viewerId` sees them, by
   * message id, in one read (an empty list reads nothing): unavailable
   * before the viewer's horizon (0 when they are no longer a member), deleted
   * when deleted for everyone or by the viewer for themselves.
   */
  quotesOf(messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, QuotedMessage>>;

  /**
   * The user's entries with seq above `afterSeq`, ascending, at most `limit`,
   * each with its full message or record, messages as they stand now (edited
   * text, tombstones; a message the user deleted for themselves reads as
   * deleted, text "", to them).
   */
  inbox(userId: bigint, afterSeq: bigint, limit: number): Promise<InboxEntry[]>;
  /**
   * The messages `search.userId` can read that hold every word, newest first
   * (by message id), at most `limit`: in conversations they are a member of
   * now (not deleted), from their history horizon on, never a message deleted
   * for everyone, one they deleted for themselves, or a system message. Each
   * as history returns it. Reads an index kept in step with every send, edit
   * and deletion in the same transaction, so a stored change is found (or no
   * longer found) as soon as it is acknowledged. A store without a search
   * index throws SearchUnavailableError.
   */
  searchMessages(search: MessageSearch): Promise<StoredMessage[]>;
  /** The user's highest seq (0 when the inbox is empty). */
  headSeq(userId: bigint): Promise<bigint>;

  /** Records how far a device has synced: stores max(stored, seq) and returns the stored value. */
  setCursor(userId: bigint, deviceId: bigint, seq: bigint): Promise<bigint>;
  /** The device's cursor (0 when none). */
  getCursor(userId: bigint, deviceId: bigint): Promise<bigint>;

  /**
   * Moves the member's read marker up to `messageId`. Only forward: an equal
   * or lower id, or a non-member, changes nothing (advanced=false, no entries).
   * When it advances, appends one "read" entry to each of `recipients` (the
   * conversation's members) in the same transaction. The caller checks that
   * `messageId` is a message of the conversation: a marker past the newest
   * message would hide later messages from the unread count.
   */
  markRead(
    conversationId: bigint,
    userId: bigint,
    messageId: bigint,
    at: Date,
    recipients: readonly bigint[],
  ): Promise<{ advanced: boolean; entries: InboxEntry[] }>;
  /** One receipt per current member for the message, ordered by user id. */
  receipts(conversationId: bigint, messageId: bigint): Promise<Receipt[]>;
  /** Messages after the user's read marker, not sent by the user and not system messages (0 for non-members). */
  unreadCount(conversationId: bigint, userId: bigint): Promise<number>;
  /** unreadCount summed over the user's conversations, deleted ones left out, counted up to `cap`: the badge a push shows. */
  totalUnread(userId: bigint, cap: number): Promise<number>;
  /** The user's conversations (deleted ones left out), newest activity first, with activity strictly below `beforeActivityId` when given. */
  listConversations(userId: bigint, limit: number, beforeActivityId?: bigint): Promise<ConversationSummary[]>;
}
