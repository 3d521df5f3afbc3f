import { type Conversation, ConversationKind, type Message } from "@parley/contracts/parley/chat/v1/chat";
import type { Friendship } from "./api.js";

/** A message this device sent: pending until stored, failed when the server refused it or it timed out. */
export interface Outgoing {
  clientMsgId: string;
  conversationId: bigint;
  text: string;
  /** The message this one replies to (0n: none). */
  replyToMessageId: bigint;
  state: "pending" | "sent" | "failed";
  error?: string;
  createdAt: number;
}

export interface ConversationState {
  id: bigint;
  conversation: Conversation;
  lastMessage: Message | undefined;
  unread: number;
  /** Of the unread messages, those mentioning this user (the list's "@" badge). */
  unreadMentions: number;
  lastReadMessageId: bigint;
  /** Loaded messages by id: every message from the oldest loaded one to the newest. */
  messages: Map<bigint, Message>;
  /** Whether history was fetched (only then do live messages join `messages`). */
  historyLoaded: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  /** The other members' read markers (message ids), from receipts. */
  readUpTo: Map<bigint, bigint>;
  /** Who is typing, until when (epoch ms): a "typing" that is never stopped fades. */
  typing: Map<bigint, number>;
  /** This user left or was removed: the conversation is read-only history. */
  left: boolean;
}

export interface Presence {
  online: boolean;
  lastActiveAt: number | undefined;
}

/** How long a typing indicator lasts without a fresh event. */
export const TYPING_TTL_MS = 6_000;

/**
 * Everything the app shows, in one place, changed only through the methods
 * below or by the controller followed by `changed()`, which schedules one
 * redraw per animation frame however many events arrive.
 */
export class ChatState {
  readonly conversations = new Map<bigint, ConversationState>();
  readonly outgoing = new Map<string, Outgoing>();
  readonly presence = new Map<bigint, Presence>();
  friends = new Map<bigint, Friendship>();
  openId: bigint | undefined;
  connection: { state: "connecting" | "online" | "offline"; detail: string } = { state: "connecting", detail: "Connecting…" };
  private scheduled = false;
  private readonly listeners = new Set<() => void>();

  constructor(readonly me: bigint) {}

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      for (const listener of this.listeners) listener();
    });
  }

  get open(): ConversationState | undefined {
    return this.openId === undefined ? undefined : this.conversations.get(this.openId);
  }

  /** Adds a conversation or refreshes its members and name; keeps what was loaded. */
  upsert(conversation: Conversation): ConversationState {
    const known = this.conversations.get(conversation.conversationId);
    if (known) {
      known.conversation = conversation;
      known.left = !conversation.members.some((m) => m.userId === this.me);
      return known;
    }
    const fresh: ConversationState = {
      id: conversation.conversationId,
      conversation,
      lastMessage: undefined,
      unread: 0,
      unreadMentions: 0,
      lastReadMessageId: 0n,
      messages: new Map(),
      historyLoaded: false,
      hasOlder: true,
      loadingOlder: false,
      readUpTo: new Map(),
      typing: new Map(),
      left: !conversation.members.some((m) => m.userId === this.me),
    };
    this.conversations.set(conversation.conversationId, fresh);
    return fresh;
  }

  /**
   * A message from the SDK (live or from a sync, exactly once): it becomes
   * the last message when newer, joins the loaded history, settles this
   * device's pending copy, and counts as unread when it is someone else's,
   * newer than the read marker and not being looked at. Returns whether it
   * was new to the conversation.
   */
  applyMessage(message: Message, beingRead: boolean): boolean {
    const c = this.conversations.get(message.conversationId);
    if (!c) return false;
    const newest = c.lastMessage === undefined || message.messageId > c.lastMessage.messageId;
    if (newest) c.lastMessage = message;
    if (c.historyLoaded) c.messages.set(message.messageId, keepReactions(message, c.messages.get(message.messageId)));
    if (message.senderId === this.me) this.outgoing.delete(message.clientMsgId);
    c.typing.delete(message.senderId);
    const fromOther = message.senderId !== this.me && message.senderId !== 0n;
    if (newest && fromOther && !beingRead && !message.deleted && message.messageId > c.lastReadMessageId) {
      c.unread += 1;
      if (message.mentionedUserIds.includes(this.me)) c.unreadMentions += 1;
    }
    if (message.system?.event.case === "memberRemoved" && message.system.event.value.userId === this.me) c.left = true;
    return newest;
  }

  /** A read receipt: this user's (from any device: clears the count) or another member's (shown under the messages). */
  applyRead(conversationId: bigint, userId: bigint, messageId: bigint): void {
    const c = this.conversations.get(conversationId);
    if (!c) return;
    if (userId === this.me) {
      if (messageId > c.lastReadMessageId) c.lastReadMessageId = messageId;
      if (c.lastMessage === undefined || messageId >= c.lastMessage.messageId) {
        c.unread = 0;
        c.unreadMentions = 0;
      }
      return;
    }
    if (messageId > (c.readUpTo.get(userId) ?? 0n)) c.readUpTo.set(userId, messageId);
  }

  applyTyping(conversationId: bigint, userId: bigint, typing: boolean): void {
    const c = this.conversations.get(conversationId);
    if (!c || userId === this.me) return;
    if (typing) c.typing.set(userId, Date.now() + TYPING_TTL_MS);
    else c.typing.delete(userId);
  }

  /** Conversations by latest activity (last message, else creation), the newest first. */
  sorted(): ConversationState[] {
    const key = (c: ConversationState) => c.lastMessage?.messageId ?? c.id;
    return [...this.conversations.values()].sort((a, b) => (key(a) === key(b) ? 0 : key(a) > key(b) ? -1 : 1));
  }

  /** The loaded messages, oldest first, then this device's sends not yet back from the server. */
  timeline(c: ConversationState): (Message | Outgoing)[] {
    const stored = [...c.messages.values()].sort((a, b) => (a.messageId === b.messageId ? 0 : a.messageId < b.messageId ? -1 : 1));
    const waiting = [...this.outgoing.values()].filter((o) => o.conversationId === c.id);
    return [...stored, ...waiting];
  }

  /** The other member of a direct conversation (undefined in groups). */
  peerOf(c: ConversationState): bigint | undefined {
    if (c.conversation.kind !== ConversationKind.DIRECT) return undefined;
    return c.conversation.members.find((m) => m.userId !== this.me)?.userId;
  }
}

/**
 * Message and edited entries carry no reactions (the reacted entries that
 * follow them do), so a fresh copy of a message keeps the counts of the copy
 * held until one of those entries replaces them.
 */
export function keepReactions(incoming: Message, held: Message | undefined): Message {
  if (held === undefined || incoming.reactions.length > 0 || held.reactions.length === 0 || incoming.deleted) return incoming;
  return { ...incoming, reactions: held.reactions };
}
