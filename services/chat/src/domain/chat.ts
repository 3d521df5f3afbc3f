import { MAX_ID } from "@parley/runtime";
import { InvalidInput, NotAllowed, NotFound, PreconditionFailed } from "../errors.js";
import { checkClientMsgId, checkText, LIMITS, pageSize } from "./limits.js";
import { DirectBlocks } from "./direct-blocks.js";
import { MessageChanges } from "./message-changes.js";
import { MessageSearcher, type SearchInput, type SearchPage } from "./search.js";
import { Reactions } from "./reactions.js";
import { Mentions } from "./mentions.js";
import { Replies } from "./replies.js";
import { SendBatcher } from "./send-batcher.js";
import { ConversationMissingError, NotAMemberError, noChatMeter } from "../ports.js";
import type {
  BlockDirectory,
  ChatMeter,
  ConversationRecord,
  ConversationSummary,
  DeliveryBus,
  IdSource,
  InboxEntry,
  MessageChangeOutcome,
  MessageStore,
  PushEraser,
  ReactionOutcome,
  SendOutcome,
  StoredMessage,
  UserDirectory,
} from "../ports.js";

const TYPING_INTERVAL_MS = 1_000;

/** Who is acting: the user and device from the verified access token. */
export interface Actor {
  userId: bigint;
  deviceId: bigint;
}

export interface ChatOptions {
  store: MessageStore;
  ids: IdSource;
  users: UserDirectory;
  /** Blocks between users (account's); absent: nobody is blocked (unit tests that do not need them). */
  blocks?: BlockDirectory;
  bus: DeliveryBus;
  now: () => Date;
  /** Told store times, messages stored and sync sizes (metrics). */
  meter?: ChatMeter;
  /** How long after sending a message its sender may edit it, in seconds; 0: no limit (default 900). */
  editWindowSeconds?: number;
  /** How long after sending its sender may delete it for everyone, in seconds; 0: no limit (the default). */
  deleteWindowSeconds?: number;
  /** Takes deleted messages out of notify's notifications; absent: nothing to take back (no notify). */
  pushEraser?: PushEraser;
}

/**
 * The chat domain: the send path of the architecture brief (membership,
 * limits, de-duplication, a Snowflake id, one stored copy, an inbox entry
 * per member, ack, then delivery), history, sync, cursors and receipts.
 * Free of transport; the store, id source, user directory and bus are ports.
 */
/** Shared by every send without an "@": only its length is read. */
const NO_MENTIONS: bigint[] = [];

export class Chat {
  readonly #sends: SendBatcher;
  readonly #meter: ChatMeter;
  readonly #changes: MessageChanges;
  readonly #blocks: DirectBlocks | undefined;
  readonly #searcher: MessageSearcher;
  readonly #reactions: Reactions;
  readonly #replies: Replies;
  readonly #mentions: Mentions;

  constructor(private readonly o: ChatOptions) {
    this.#meter = o.meter ?? noChatMeter;
    this.#sends = new SendBatcher(o.store, { meter: this.#meter });
    this.#blocks = o.blocks && new DirectBlocks(o.store, o.blocks);
    this.#reactions = new Reactions(o);
    this.#replies = new Replies(o.store);
    this.#mentions = new Mentions(o.store, o.users);
    this.#changes = new MessageChanges({ ...o, editWindowSeconds: o.editWindowSeconds ?? 900, deleteWindowSeconds: o.deleteWindowSeconds ?? 0 });
    this.#searcher = new MessageSearcher(o.store);
  }

  /**
   * The one direct conversation between the actor and `peer`. Anyone may open
   * one with any existing user (as in Messenger, where strangers' messages
   * land as requests), unless either blocks the other: then it is refused,
   * the existing one too.
   */
  async openDirect(actor: Actor, peer: bigint): Promise<ConversationRecord> {
    if (peer === 0n) throw new InvalidInput("peer_user_id", "is required");
    if (peer === actor.userId) throw new InvalidInput("peer_user_id", "must be another user");
    if (!(await this.o.users.existing([peer])).has(peer)) throw new NotFound(`no user with id ${peer}`);
    await this.#blocks?.checkOpen(actor.userId, peer);
    return this.o.store.openDirect(actor.userId, peer, await this.o.ids.next());
  }

  /** Sends a message; `replyTo` (0: none) names a message of the same conversation it replies to. */
  async send(actor: Actor, conversationId: bigint, clientMsgId: string, text: string, replyTo = 0n): Promise<SendOutcome> {
    if (conversationId === 0n) throw new InvalidInput("conversation_id", "is required");
    checkClientMsgId(clientMsgId);
    checkText(text);
    // A direct conversation across a block refuses sends both ways; no call to another service when cached.
    const blocked = this.#blocks?.check(actor.userId, conversationId);
    if (blocked !== undefined) await blocked;
    // A reply costs one read more, and its own transaction (append); a text with an "@" a lookup of
    // the members' names; other sends neither, nor even a promise.
    let target: Awaited<ReturnType<Replies["target"]>> | undefined;
    let mentioned = NO_MENTIONS;
    if (replyTo !== 0n || text.includes("@")) {
      [target, mentioned] = await Promise.all([
        replyTo === 0n ? undefined : this.#replies.target(actor.userId, conversationId, replyTo),
        this.#mentions.resolve(conversationId, actor.userId, text),
      ]);
    }
    const message: StoredMessage = {
      messageId: await this.o.ids.next(),
      conversationId,
      senderId: actor.userId,
      senderDeviceId: actor.deviceId,
      clientMsgId,
      text,
      createdAt: this.o.now(),
    };
    // Set only when there is one: a plain send's message has no spread objects and keeps one shape.
    if (target !== undefined) message.replyToMessageId = replyTo;
    if (mentioned.length > 0) message.mentionedUserIds = mentioned;
    // The store checks membership and reads the members inside its transaction, under
    // the conversation's row lock: a member removed before this commits never gets it,
    // one added after never does either. Sends arriving together share a transaction.
    // Replies and messages with mentions have columns of their own, which the send batch does not write.
    let outcome: SendOutcome;
    try {
      outcome = await (target === undefined && mentioned.length === 0 ? this.#sends.append(message) : this.o.store.append(message));
    } catch (err) {
      if (err instanceof NotAMemberError) throw new NotAllowed("you are not a member of this conversation");
      if (err instanceof ConversationMissingError) throw new NotFound(`no conversation with id ${conversationId}`);
      throw err;
    }
    // Stored: now deliver. A crash from here on loses no message: devices sync.
    // The sending device gets its own entry too: its cursor then advances
    // through every seq like any other device's, with no special case.
    const entries = target === undefined ? outcome.entries : this.#replies.quoted(outcome.entries, target);
    for (const entry of entries) this.o.bus.publish(entry.userId, { kind: "entry", entry });
    return outcome;
  }

  async history(actor: Actor, conversationId: bigint, before: bigint, limit: number): Promise<{ messages: StoredMessage[]; hasMore: boolean }> {
    const size = pageSize("limit", limit, LIMITS.historyDefault, LIMITS.historyMax);
    const conversation = await this.memberOf(actor, conversationId);
    // A member sees history from their horizon on (0 when the group shows earlier history).
    const horizon = conversation.members.find((m) => m.userId === actor.userId)!.historyFromMessageId;
    // Messages the actor deleted for themselves are left out; those deleted for everyone are tombstones.
    const page = await this.o.store.history(conversationId, before === 0n ? undefined : before, size + 1, horizon, actor.userId);
    const messages = await this.#replies.withQuotes(await this.#reactions.withReactions(page.slice(0, size), actor.userId), actor.userId);
    return { messages, hasMore: page.length > size };
  }

  /** Adds or removes the actor's reaction (one emoji) to a message; every member's devices learn it. */
  react(actor: Actor, conversationId: bigint, messageId: bigint, emoji: string, remove: boolean): Promise<ReactionOutcome> {
    return this.#reactions.react(actor, conversationId, messageId, emoji, remove);
  }

  /** Replaces the text of one of the actor's own messages within the edit window; every member's devices learn it. */
  async editMessage(actor: Actor, conversationId: bigint, messageId: bigint, text: string): Promise<MessageChangeOutcome> {
    // An edit reaches the other member as a send does: refused across a block too.
    await this.#blocks?.check(actor.userId, conversationId);
    return this.#changes.edit(actor, conversationId, messageId, text);
  }

  /** Deletes a message for everyone (the actor's own, within the window; the text is erased) or for the actor only. */
  deleteMessage(actor: Actor, conversationId: bigint, messageId: bigint, forEveryone: boolean): Promise<MessageChangeOutcome> {
    return this.#changes.delete(actor, conversationId, messageId, forEveryone);
  }

  /**
   * An operator deletes any message for everyone: the sender's own deletion
   * for everyone, without its window, so members see what they see when a
   * sender deletes. A sender who left the group cannot delete there, so
   * neither can an operator in their name (FAILED_PRECONDITION).
   */
  async moderateDelete(conversationId: bigint, messageId: bigint): Promise<{ unchanged: boolean; senderId: bigint }> {
    if (conversationId === 0n) throw new InvalidInput("conversation_id", "is required");
    if (messageId === 0n) throw new InvalidInput("message_id", "is required");
    if (messageId >= MAX_ID) throw new NotFound(`no message with id ${messageId} in conversation ${conversationId}`);
    const [message] = await this.o.store.history(conversationId, messageId + 1n, 1);
    if (message === undefined || message.messageId !== messageId) {
      if ((await this.o.store.getConversation(conversationId)) === undefined) throw new NotFound(`no conversation with id ${conversationId}`);
      throw new NotFound(`no message with id ${messageId} in conversation ${conversationId}`);
    }
    if (message.senderId === 0n) throw new InvalidInput("message_id", "names a system message, which cannot be deleted");
    const sender = { userId: message.senderId, deviceId: 0n };
    const outcome = await this.#changes.delete(sender, conversationId, messageId, true, true).catch((err: unknown) => {
      if (err instanceof NotAllowed) throw new PreconditionFailed("its sender has left this conversation; delete the group to remove it");
      throw err;
    });
    return { unchanged: !outcome.changed, senderId: message.senderId };
  }

  /** The actor's readable messages holding every word of a query, newest first, with snippets. */
  searchMessages(actor: Actor, input: SearchInput): Promise<SearchPage> {
    return this.#searcher.search(actor, input);
  }

  async sync(actor: Actor, afterSeq: bigint, limit: number): Promise<{ entries: InboxEntry[]; hasMore: boolean; headSeq: bigint }> {
    const size = pageSize("limit", limit, LIMITS.syncDefault, LIMITS.syncMax);
    const [page, headSeq] = await Promise.all([this.o.store.inbox(actor.userId, afterSeq, size + 1), this.o.store.headSeq(actor.userId)]);
    const entries = await this.#replies.inEntries(page.slice(0, size), actor.userId);
    this.#meter.synced(entries.length);
    return { entries, hasMore: page.length > size, headSeq };
  }

  async listConversations(actor: Actor, limit: number, pageToken: string): Promise<{ conversations: ConversationSummary[]; nextPageToken: string }> {
    const size = pageSize("limit", limit, LIMITS.conversationsDefault, LIMITS.conversationsMax);
    const before = parsePageToken(pageToken);
    const page = await this.o.store.listConversations(actor.userId, size + 1, before);
    const conversations = page.slice(0, size);
    const last = conversations.at(-1);
    return { conversations, nextPageToken: page.length > size && last ? last.lastActivityId.toString() : "" };
  }

  async conversation(actor: Actor, conversationId: bigint): Promise<ConversationRecord> {
    return this.memberOf(actor, conversationId);
  }

  /** Marks read up to a message; the actor's other devices and the other members learn it live. */
  async markRead(actor: Actor, conversationId: bigint, messageId: bigint): Promise<number> {
    if (messageId === 0n) throw new InvalidInput("message_id", "is required");
    const conversation = await this.memberOf(actor, conversationId);
    const recipients = conversation.members.map((m) => m.userId);
    const { entries } = await this.o.store.markRead(conversationId, actor.userId, messageId, this.o.now(), recipients);
    for (const entry of entries) this.o.bus.publish(entry.userId, { kind: "entry", entry });
    return this.o.store.unreadCount(conversationId, actor.userId);
  }

  async ackCursor(actor: Actor, seq: bigint): Promise<bigint> {
    const head = await this.o.store.headSeq(actor.userId);
    if (seq > head) throw new InvalidInput("seq", `must not be above the inbox head (${head})`);
    return this.o.store.setCursor(actor.userId, actor.deviceId, seq);
  }

  async cursor(actor: Actor): Promise<{ seq: bigint; headSeq: bigint }> {
    const [seq, headSeq] = await Promise.all([this.o.store.getCursor(actor.userId, actor.deviceId), this.o.store.headSeq(actor.userId)]);
    return { seq, headSeq };
  }

  /** Who of the other members has received and read a message. */
  async receipts(actor: Actor, conversationId: bigint, messageId: bigint): Promise<{ userId: bigint; delivered: boolean; read: boolean }[]> {
    if (messageId === 0n) throw new InvalidInput("message_id", "is required");
    await this.memberOf(actor, conversationId);
    const receipts = await this.o.store.receipts(conversationId, messageId);
    return receipts.filter((r) => r.userId !== actor.userId);
  }

  /**
   * Typing indicators go to the other members' connected devices only; never
   * stored. At most one "typing" per user and conversation per second passes;
   * the rest are dropped silently (the request still succeeds), while "stopped
   * typing" always passes.
   */
  async setTyping(actor: Actor, conversationId: bigint, typing: boolean): Promise<void> {
    const conversation = await this.memberOf(actor, conversationId);
    await this.#blocks?.check(actor.userId, conversationId);
    if (typing && !this.typingAllowed(actor.userId, conversationId)) return;
    for (const member of conversation.members) {
      if (member.userId === actor.userId) continue;
      this.o.bus.publish(member.userId, { kind: "typing", userId: member.userId, conversationId, typerId: actor.userId, typing });
    }
  }

  private readonly lastTyping = new Map<string, number>();

  private typingAllowed(userId: bigint, conversationId: bigint): boolean {
    const now = this.o.now().getTime();
    const key = `${userId}:${conversationId}`;
    if (now - (this.lastTyping.get(key) ?? -Infinity) < TYPING_INTERVAL_MS) return false;
    if (this.lastTyping.size > 100_000) {
      for (const [k, at] of this.lastTyping) if (now - at >= TYPING_INTERVAL_MS) this.lastTyping.delete(k);
    }
    this.lastTyping.set(key, now);
    return true;
  }

  private async memberOf(actor: Actor, conversationId: bigint): Promise<ConversationRecord> {
    if (conversationId === 0n) throw new InvalidInput("conversation_id", "is required");
    const conversation = await this.o.store.getConversation(conversationId);
    if (conversation === undefined) throw new NotFound(`no conversation with id ${conversationId}`);
    if (!conversation.members.some((m) => m.userId === actor.userId)) {
      throw new NotAllowed("you are not a member of this conversation");
    }
    return conversation;
  }
}

function parsePageToken(token: string): bigint | undefined {
  if (token === "") return undefined;
  // Tokens are activity ids: anything else, or a number no id can reach, was not issued here.
  if (!/^\d{1,19}$/.test(token) || BigInt(token) > MAX_ID) throw new InvalidInput("page_token", "is not a token this service issued");
  return BigInt(token);
}
