import type { DeletionRecord, MessageChangeOutcome, MessageDeletion, MessageEdit } from "./message-changes.js";
import type { MessageKey, MessageReaction, ReactionCount, ReactionOutcome, ReactionRecord } from "./message-reactions.js";
import type { QuotedMessage, ReplyTarget } from "./message-replies.js";

import type { MessageSearch } from "./message-search.js";

export * from "./message-changes.js";
export * from "./message-search.js";
export * from "./message-reactions.js";
export * from "./message-replies.js";

/** The chat domain's stored records. IDs are bigint: they are 64-bit Snowflake ids in the contracts. */
export type ConversationKind = "direct" | "group";
export type MemberRole = "member" | "admin" | "owner";

export interface MemberRecord {
  userId: bigint;
  role: MemberRole;
  joinedAt: Date;
  /** The member's read marker: every message up to and including this id is read (0: none). */
  readMessageId: bigint;
  /** The member's history horizon: they may read messages from this id on (0: all history). */
  historyFromMessageId: bigint;
}

/** A group's settings. */
export interface GroupSettings {
  /** Whether members added later may read the messages sent before they joined. */
  historyVisibleToNewMembers: boolean;
}

export interface ConversationRecord {
  id: bigint;
  kind: ConversationKind;
  /** Empty for direct conversations. */
  name: string;
  createdAt: Date;
  /** Ordered by user id; empty once the conversation is deleted. */
  members: MemberRecord[];
  /** Present for groups only. */
  settings?: GroupSettings;
  /** A deleted group keeps its id and messages but has no members and leaves every conversation list. */
  deleted: boolean;
}

/** Thrown by append (without explicit recipients) when the sender is not a member when the send commits. */
export class NotAMemberError extends Error {
  override name = "NotAMemberError";
}

/** Thrown by updateGroup when the conversation does not exist. */
export class ConversationMissingError extends Error {
  override name = "ConversationMissingError";
}

/** A change to a group, decided by the caller against the locked current state. */
export interface GroupChange {
  /** New members; users already in the group are left as they are. */
  add?: { userId: bigint; role: MemberRole }[];
  remove?: bigint[];
  roles?: { userId: bigint; role: MemberRole }[];
  name?: string;
  settings?: GroupSettings;
  /** Marks the group deleted and removes every member (the other fields are then ignored). */
  delete?: boolean;
  /** the system message recording the change */
  systemMessage: StoredMessage;
}

/** A group to create, with its members and the system message that records the creation. */
export interface NewGroup {
  id: bigint;
  name: string;
  settings: GroupSettings;
  members: { userId: bigint; role: MemberRole }[];
  systemMessage: StoredMessage;
}

/** A group after a change, and the outcome of storing the system message that records it. */
export interface GroupWritten {
  conversation: ConversationRecord;
  outcome: SendOutcome;
}

/** Per member of a conversation: whether one message reached a device of theirs and whether they read it. */
export interface Receipt {
  userId: bigint;
  /** Some device cursor of the user is at or past the seq of the message's inbox entry. */
  delivered: boolean;
  /** The user's read marker is at or past the message. */
  read: boolean;
}

export interface StoredMessage {
  messageId: bigint;
  conversationId: bigint;
  /** 0 for system messages. */
  senderId: bigint;
  senderDeviceId: bigint;
  /** The sender's de-duplication key; empty turns de-duplication off (system messages). */
  clientMsgId: string;
  text: string;
  /** serialized parley.chat.v1.SystemEvent for system messages, else undefined */
  system?: Uint8Array;
  createdAt: Date;
  /** When the sender last edited the text; absent when never edited. */
  editedAt?: Date;
  /** When it was deleted for everyone (text "" then, erased from storage); absent while it is not. */
  deletedAt?: Date;
  /** Its reactions as one user sees them, where a read fills them in (history, a reaction's outcome); absent otherwise. */
  reactions?: ReactionCount[];
  /** The message of the same conversation it replies to (stored with it); absent when it is not a reply. */
  replyToMessageId?: bigint;
  /** That message as one reader sees it, where the domain fills it in (history, sync, live entries); never stored. */
  replyTo?: QuotedMessage;
  /** The members its text mentions, resolved at the send (stored with it); absent when none. */
  mentionedUserIds?: bigint[];
}

export interface ReadRecord {
  conversationId: bigint;
  /** Who read. */
  userId: bigint;
  /** Up to and including this message. */
  messageId: bigint;
  readAt: Date;
}

/**
 * What an inbox entry holds. "edited" carries the message as it stands when
 * read (a later edit or deletion already applied); "deleted" is for everyone
 * in every member's inbox, or for the user only in their own. "reacted"
 * carries the message's reaction counts as they stand when read, as the
 * inbox's user sees them.
 */
export type InboxItem =
  | { kind: "message"; message: StoredMessage }
  | { kind: "read"; read: ReadRecord }
  | { kind: "edited"; message: StoredMessage }
  | { kind: "deleted"; deletion: DeletionRecord }
  | { kind: "reacted"; reaction: ReactionRecord };

export interface InboxEntry {
  userId: bigint;
  seq: bigint;
  item: InboxItem;
}

export interface SendOutcome {
  message: StoredMessage;
  /** The sender's own inbox seq of the message (0 when the sender was not among the recipients). */
  senderSeq: bigint;
  /** True when (senderId, clientMsgId) was stored before: message and senderSeq are the original's. */
  duplicate: boolean;
  /** inbox entries written (empty on duplicate), one per recipient */
  entries: InboxEntry[];
}

export interface ConversationSummary {
  conversation: ConversationRecord;
  /** The newest message, absent while the conversation has none. */
  lastMessage?: StoredMessage;
  /** As unreadCount() reports it. */
  unreadCount: number;
  /** Of those, the messages that mention the user. */
  unreadMentions: number;
  lastReadMessageId: bigint;
  /** The newest message's id, or the conversation's own id while it has none: the listing's sort and paging key. */
  lastActivityId: bigint;
}

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

/** Snowflake ids for messages and conversations; strictly increasing per source. */
export interface IdSource {
  next(): Promise<bigint>;
}

/** Whether users exist (the account service in the mesh). */
export interface UserDirectory {
  /** The subset of `ids` that are existing users. */
  existing(ids: readonly bigint[]): Promise<Set<bigint>>;
  /** The usernames of those of `ids` that are existing users (one call; for resolving @mentions among members). */
  usernames(ids: readonly bigint[]): Promise<Map<bigint, string>>;
}

/** Whether each of two users blocks the other. */
export interface BlockState {
  userBlocksOther: boolean;
  otherBlocksUser: boolean;
}

/**
 * Blocks between users (the account service owns them), for direct
 * conversations.
 *
 * Contract: `between` may answer from a cache, which the adapter keeps
 * correct on every chat replica: an entry is dropped when the account
 * instance that changed the pair announces it (each replica follows every
 * account instance), the whole cache when an announcement stream opens or
 * breaks (what changed meanwhile is unknown), and any entry after a bounded
 * age. `fresh` always asks. Both reject (an outage) rather than guess.
 */
export interface BlockDirectory {
  between(userId: bigint, otherId: bigint): Promise<BlockState>;
  fresh(userId: bigint, otherId: bigint): Promise<BlockState>;
}

/** Users' display names (the account service in the mesh). */
export interface DisplayNames {
  /** The name shown for the user, possibly a little stale (cached); undefined for an unknown user. */
  displayName(userId: bigint): Promise<string | undefined>;
}

/** A connected device and the gateway holding it. */
export interface DeviceLocation {
  deviceId: bigint;
  gatewayId: string;
}

/** Where users' devices are connected (the presence service in the mesh). */
export interface DeviceLocator {
  /**
   * Connected devices per user; users with none are absent. Any number of
   * users. Rejects with DependencyUnavailable when presence cannot answer
   * now (the caller falls back rather than wait).
   */
  locate(userIds: readonly bigint[]): Promise<Map<bigint, DeviceLocation[]>>;
  /** Stops: lookups from then on fail; resolves once the connection to presence has ended. */
  close(): Promise<void>;
}

/** How an inbox entry reached its recipient: written to the gateways holding their devices, or handed to notify for a push. */
export type DeliveryPath = "live" | "push";

/**
 * What chat tells its metrics (metrics.ts, built by the wiring; nothing in
 * unit tests). Called on the send and delivery paths, per batch where the
 * code has one, so an implementation only bumps counters it made
 * beforehand: no allocation, never a throw.
 */
export interface ChatMeter {
  /** The store's append of one batch of sends returned or failed after `seconds`. */
  appended(batchSize: number, seconds: number): void;
  /** New messages stored by a batch (duplicates and refused sends are not). */
  stored(messages: number): void;
  /** A sync page was answered with this many entries. */
  synced(entries: number): void;
  /** An inbox entry was handed on. */
  delivered(path: DeliveryPath): void;
  /** An event reached the delivery worker `seconds` after it was published (in effect, after its entry was stored). */
  busWaited(seconds: number): void;
}

/** Counts nothing. */
export const noChatMeter: ChatMeter = {
  appended: () => {},
  stored: () => {},
  synced: () => {},
  delivered: () => {},
  busWaited: () => {},
};

/** What travels on the delivery bus: an inbox entry for its user, or an ephemeral event. */
export type DeliveryEvent =
  | { kind: "entry"; entry: InboxEntry; exceptDeviceId?: bigint }
  | { kind: "typing"; userId: bigint; conversationId: bigint; typerId: bigint; typing: boolean };

/**
 * The delivery bus. Guarantees: events with the same key (the recipient user
 * id) are handed to the consumer one at a time in publish order; at most once
 * in the embedded adapter (an event in flight is lost if the process dies,
 * which is safe because every entry is in the store and devices sync from
 * their cursor), at least once in the Kafka adapter.
 */
export interface DeliveryBus {
  publish(key: bigint, event: DeliveryEvent): void;
  /** Starts consuming; one consumer per bus. */
  consume(handler: (event: DeliveryEvent) => Promise<void>): void;
  close(): Promise<void>;
}

/** An inbox entry's key. */
export interface EntryKey {
  userId: bigint;
  seq: bigint;
}

/**
 * The delivery outbox (Postgres): every stored inbox entry is in it from the
 * transaction that stored it until a chat process has handed it on, so an
 * entry whose process died after the ack and before the delivery is found
 * and delivered by another. Absent on the embedded SQLite store, where one
 * process holds everything and devices sync when it comes back.
 */
export interface DeliveryOutbox {
  /** The entry was handed on (to its devices' gateways, or found to have none); its row goes, in a batch with others. */
  handedOn(key: EntryKey): void;
  /** Up to `limit` entries written or last claimed more than `overdueMs` ago, claimed for this caller (overdue again `overdueMs` later). */
  claimOverdue(overdueMs: number, limit: number): Promise<EntryKey[]>;
  /** Writes the pending deletions. */
  close(): Promise<void>;
}

/** Another user's message for a recipient none of whose devices is connected. */
export interface NewMessagePush {
  recipientId: bigint;
  message: StoredMessage;
}

/**
 * Hands notifications for recipients with no connected device to notify,
 * which pushes them. What it promises:
 *
 * - newMessage never throws and never blocks: it queues the hand-off and
 *   returns. Hand-offs are not ordered among themselves.
 * - The queue is bounded: when it is full the hand-off is dropped with a
 *   warning (rate-limited) and counted. Only the push is lost; the message
 *   waits in the inbox for the next sync either way.
 * - Transient failures (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL,
 *   RESOURCE_EXHAUSTED, UNKNOWN) are retried with exponential backoff and
 *   jitter, a bounded number of times; other failures are not retried and are
 *   logged as a warning. Retries never notify twice: the event id comes from
 *   (message id, recipient) and notify is idempotent on it.
 * - Hand-offs live in this process's memory. close() stops it, and queued
 *   or in-flight hand-offs (their retries too) are abandoned, so a shutdown
 *   never waits on notify. `settled` says how a hand-off ended: "ended" once
 *   notify took it, refused it for good, the attempts ran out or the queue
 *   had no room (nothing more to try), "abandoned" when this process closed
 *   first. The delivery outbox keeps an entry until its push has ended, so
 *   an abandoned push (or one lost with its process) is handed off again by
 *   another chat process.
 */
export interface PushNotifier {
  newMessage(push: NewMessagePush, settled?: (outcome: "ended" | "abandoned") => void): void;
  close(): Promise<void>;
}
