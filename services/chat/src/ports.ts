import type { DeletionRecord } from "./message-changes.js";
import type { ReactionCount, ReactionRecord } from "./message-reactions.js";
import type { QuotedMessage } from "./message-replies.js";

export * from "./message-changes.js";
export * from "./message-search.js";
export * from "./message-reactions.js";
export * from "./message-replies.js";
export * from "./message-store-port.js";

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
  /** The pair's state when `between` would answer from its cache, else undefined: the hot path's answer without a promise. */
  cached(userId: bigint, otherId: bigint): BlockState | undefined;
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
/** Handles events in the order given; a rejection reports a failure and does not stop the bus. */
export type DeliveryHandler = (events: readonly DeliveryEvent[]) => Promise<void>;

export interface DeliveryBus {
  publish(key: bigint, event: DeliveryEvent): void;
  /**
   * Starts consuming; one consumer per bus. The handler gets a key's events
   * in publish order, several at a time when several are waiting, and its
   * next call for that key waits until the promise of the one before has
   * settled.
   */
  consume(handler: DeliveryHandler): void;
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

/**
 * Takes a message deleted for everyone back out of notify (NotifyService
 * Erase): its stored notifications lose the text and their pushes not sent
 * yet are never sent. What it promises:
 *
 * - messageDeleted never throws and never blocks the deletion: it queues the
 *   erase and returns. The queue is bounded; an erase it has no room for is
 *   dropped with a warning (rate-limited) and counted.
 * - Transient failures are retried with backoff as PushNotifier's are, a
 *   bounded number of times; then the erase is logged and counted as failed.
 * - It may run before a push of the message reaches notify (queued in
 *   another process, waiting on the bus or in a retry): notify remembers the
 *   erased event ids and stores such a late push erased, unsent.
 * - In memory only: an erase queued when this process dies (or closes) is
 *   lost, and the notifications keep the text (docs/architecture.md).
 */
export interface PushEraser {
  /** The message's pushes to these users (the members at deletion time, the sender left out). */
  messageDeleted(messageId: bigint, recipientIds: readonly bigint[]): void;
  close(): Promise<void>;
}
