import { AuthenticationError, ParleyClient, ParleyError } from "@parley/client";
import type { ConversationSummary, MemberRole, Message } from "@parley/contracts/parley/chat/v1/chat";
import { Status, type UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import { addFriend, ApiError, listFriends } from "./api.js";
import { Blocking } from "./blocking.js";
import { millis } from "./format.js";
import { MessageActions } from "./message-actions.js";
import { Profiles } from "./profiles.js";
import { saveCursor, loadCursor, type TokenSource } from "./session.js";
import { ChatState, type ConversationState } from "./state.js";

/** Messages per history page. */
const PAGE = 30;
/** How long a send may wait (through reconnects) before it shows as failed, with a retry button. */
const SEND_TIMEOUT_MS = 30_000;
/** Counts and last messages are re-read from the server this long after a burst of events (the local counts are a guess until then). */
const RECONCILE_DELAY_MS = 400;
/** Presence is pushed only for friends; everyone else's dot is re-read this often. */
const PRESENCE_POLL_MS = 20_000;
/** A typing "start" is repeated at most this often while the user keeps typing. */
const TYPING_REPEAT_MS = 3_000;

/**
 * The app's one connection and what it does: every SDK event lands in the
 * state, every user action is a method here. The SDK does the hard parts
 * (sync after every reconnect, exactly-once in-order delivery, resends
 * without duplicates); this keeps the screen in step with it.
 */
export class ChatController {
  readonly state: ChatState;
  readonly profiles: Profiles;
  readonly client: ParleyClient;
  /** Edit and delete: the calls and their events. */
  readonly actions: MessageActions;
  /** Whom this user blocks. */
  readonly blocking: Blocking;
  /** Something to read out (aria-live): new messages from others. */
  onAnnounce: (text: string) => void = () => {};
  /** The session ended (logged out elsewhere, refresh refused): back to the log-in. */
  onSignedOut: (why: string) => void = () => {};
  private firstSyncDone = false;
  private reconcileTimer: ReturnType<typeof setTimeout> | undefined;
  private typingSentAt = 0;
  private presencePoll: ReturnType<typeof setInterval> | undefined;

  constructor(readonly tokens: TokenSource) {
    const me = tokens.session.userId;
    this.state = new ChatState(me);
    this.profiles = new Profiles(
      () => tokens.token(),
      () => this.state.changed(),
    );
    this.profiles.remember({ userId: me, username: tokens.session.username, displayName: tokens.session.displayName });
    const cursor = loadCursor();
    this.client = new ParleyClient({
      url: location.origin,
      getToken: (reason) => tokens.token(reason === "refused"),
      ...(cursor === undefined ? { startFrom: "server" as const } : { cursor }),
    });
    this.actions = new MessageActions(this);
    this.blocking = new Blocking(tokens, this.profiles, () => this.state.changed());
    this.listen();
  }

  get me(): bigint {
    return this.state.me;
  }

  /** Connects (the SDK then syncs), and loads the conversation list and friends. */
  async start(): Promise<void> {
    await this.client.connect();
    // The block list only shapes the header's offer; the app works without it.
    await Promise.all([this.loadConversations(), this.loadFriends(), this.blocking.load().catch(() => {})]);
    await this.refreshPresence();
    this.presencePoll = setInterval(() => void this.refreshPresence(), PRESENCE_POLL_MS);
  }

  private listen(): void {
    const { client, state } = this;
    client.on("connected", () => {
      state.connection = { state: "online", detail: "Connected" };
      state.presence.set(this.me, { online: true, lastActiveAt: Date.now() });
      state.changed();
    });
    client.on("disconnected", ({ reconnectInMs }) => {
      const detail = reconnectInMs === undefined ? "Disconnected" : `Offline; reconnecting in ${Math.max(1, Math.round(reconnectInMs / 1000))} s…`;
      state.connection = { state: "offline", detail };
      state.presence.set(this.me, { online: false, lastActiveAt: Date.now() });
      state.changed();
    });
    client.on("cursor", (cursor) => saveCursor(cursor));
    client.on("message", (message) => this.onMessage(message));
    client.on("read", (receipt) => {
      state.applyRead(receipt.conversationId, receipt.userId, receipt.messageId);
      state.changed();
      this.reconcileSoon();
    });
    client.on("typing", (event) => {
      state.applyTyping(event.conversationId, event.userId, event.typing);
      state.changed();
    });
    client.on("presence", (presence) => this.onPresence(presence));
    client.on("synced", () => {
      // After every (re)connect's sync: the list is re-read, so counts missed while offline are right.
      this.firstSyncDone = true;
      this.reconcileSoon();
    });
    client.on("error", (err) => {
      if (err instanceof AuthenticationError || client.state === "stopped") this.onSignedOut(err.message);
    });
  }

  private onMessage(message: Message): void {
    const { state } = this;
    if (!state.conversations.has(message.conversationId)) {
      // A new conversation (or, during the first sync, one the list has not brought yet: the list comes after it).
      if (this.firstSyncDone) void this.loadConversation(message.conversationId);
      return;
    }
    const open = state.openId === message.conversationId && document.visibilityState === "visible";
    const isNew = state.applyMessage(message, open);
    if (message.senderId === 0n) void this.loadConversation(message.conversationId); // members or name changed
    if (isNew && this.firstSyncDone && message.senderId !== this.me && message.senderId !== 0n && !message.deleted) {
      const where = open ? "" : ` in ${this.titleOf(state.conversations.get(message.conversationId)!)}`;
      this.onAnnounce(`${this.profiles.nameOf(message.senderId)}${where}: ${message.text}`);
    }
    if (open) void this.markRead();
    state.changed();
    this.reconcileSoon();
  }

  private onPresence(p: UserPresence): void {
    this.state.presence.set(p.userId, { online: p.status === Status.ONLINE, lastActiveAt: millis(p.lastActiveAt) });
    this.state.changed();
  }

  /** The conversation's name: the group's, or the other member's. */
  titleOf(c: ConversationState): string {
    const peer = this.state.peerOf(c);
    return peer === undefined ? c.conversation.name || "Group" : this.profiles.nameOf(peer);
  }

  /** Re-reads the list (counts and last messages) shortly, once however many events ask for it. */
  reconcileSoon(): void {
    clearTimeout(this.reconcileTimer);
    this.reconcileTimer = setTimeout(() => void this.loadConversations().catch(() => {}), RECONCILE_DELAY_MS);
  }

  /** Every conversation with its unread count and last message, from the server (the truth the local counts follow). */
  async loadConversations(): Promise<void> {
    const before = this.state.conversations.size;
    let pageToken = "";
    do {
      const page = await this.client.listConversations({ limit: 100, pageToken });
      for (const summary of page.conversations) this.applySummary(summary);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    this.state.changed();
    if (this.state.conversations.size !== before) void this.refreshPresence();
  }

  private applySummary(summary: ConversationSummary): void {
    if (!summary.conversation) return;
    const c = this.state.upsert(summary.conversation);
    if (summary.lastMessage && (c.lastMessage === undefined || summary.lastMessage.messageId >= c.lastMessage.messageId)) {
      c.lastMessage = summary.lastMessage;
      c.unread = summary.unreadCount;
      c.unreadMentions = summary.unreadMentions;
    }
    if (summary.lastReadMessageId > c.lastReadMessageId) c.lastReadMessageId = summary.lastReadMessageId;
    if (this.state.openId === c.id && document.visibilityState === "visible" && c.unread > 0) void this.markRead();
  }

  private async loadConversation(conversationId: bigint): Promise<void> {
    try {
      const before = this.state.conversations.get(conversationId)?.conversation.members.length;
      const conversation = this.state.upsert(await this.client.getConversation(conversationId)).conversation;
      if (conversation.members.length !== before) void this.refreshPresence();
    } catch (err) {
      // Removed from a group: it can no longer be read; keep what is shown, read-only.
      const c = this.state.conversations.get(conversationId);
      if (c && err instanceof ParleyError && err.code === "PERMISSION_DENIED") c.left = true;
    }
    this.state.changed();
    this.reconcileSoon();
  }

  private async loadFriends(): Promise<void> {
    try {
      this.state.friends = await listFriends(await this.tokens.token());
    } catch {
      // Friends only add last-seen times; the app works without them.
    }
  }

  /** Presence of everyone in the open conversation and of every direct peer (friends also get live updates). */
  async refreshPresence(): Promise<void> {
    const ids = new Set<bigint>();
    for (const c of this.state.conversations.values()) {
      const peer = this.state.peerOf(c);
      if (peer !== undefined) ids.add(peer);
    }
    for (const m of this.state.open?.conversation.members ?? []) if (m.userId !== this.me) ids.add(m.userId);
    ids.delete(this.me); // this device knows its own state best
    if (ids.size === 0) return;
    try {
      for (const p of await this.client.getPresence([...ids].slice(0, 200))) this.onPresence(p);
    } catch {
      // Presence is a nicety: an outage leaves the dots as they were.
    }
  }

  /** Shows a conversation: its history's newest page, its receipts, read up to the newest message. */
  async open(conversationId: bigint): Promise<void> {
    const c = this.state.conversations.get(conversationId);
    if (!c) return;
    this.state.openId = conversationId;
    this.state.changed();
    if (!c.historyLoaded) await this.loadOlder(c);
    void this.loadReceipts(c);
    void this.refreshPresence();
    // Friend requests arrive with no event: re-read them when a conversation is opened.
    if (this.state.peerOf(c) !== undefined) void this.loadFriends().then(() => this.state.changed());
    await this.markRead();
  }

  /** The next page of older messages (scrolling up, or "Load older messages"). */
  async loadOlder(c: ConversationState): Promise<void> {
    if (c.loadingOlder || (c.historyLoaded && !c.hasOlder) || c.left) return;
    c.loadingOlder = true;
    this.state.changed();
    try {
      let oldest = 0n; // the oldest loaded message: the next page ends before it
      if (c.historyLoaded) for (const id of c.messages.keys()) if (oldest === 0n || id < oldest) oldest = id;
      const page = await this.client.history(c.id, { limit: PAGE, ...(oldest > 0n ? { beforeMessageId: oldest } : {}) });
      for (const m of page.messages) c.messages.set(m.messageId, m);
      c.hasOlder = page.hasMore;
      c.historyLoaded = true;
      const newest = page.messages[0];
      if (newest && (c.lastMessage === undefined || newest.messageId > c.lastMessage.messageId)) c.lastMessage = newest;
    } catch (err) {
      if (err instanceof ParleyError && err.code === "PERMISSION_DENIED") c.left = true;
    } finally {
      c.loadingOlder = false;
      this.state.changed();
    }
  }

  /** Who has read this user's latest message (the rest come live as read receipts). */
  private async loadReceipts(c: ConversationState): Promise<void> {
    let mine = 0n; // the newest of this user's loaded messages (bigints: no Math.max)
    for (const m of c.messages.values()) if (m.senderId === this.me && m.messageId > mine) mine = m.messageId;
    if (mine === 0n || c.left) return;
    try {
      for (const r of await this.client.getReceipts(c.id, mine)) if (r.read) this.state.applyRead(c.id, r.userId, mine);
      this.state.changed();
    } catch {
      // Receipts are shown as they come in anyway.
    }
  }

  /** Marks the open conversation read up to its newest message, when the page is being looked at. */
  async markRead(): Promise<void> {
    const c = this.state.open;
    if (!c || c.left || document.visibilityState !== "visible" || !c.lastMessage) return;
    if (c.lastMessage.messageId <= c.lastReadMessageId && c.unread === 0) return;
    const upTo = c.lastMessage.messageId;
    c.lastReadMessageId = upTo;
    c.unread = 0;
    c.unreadMentions = 0;
    this.state.changed();
    try {
      c.unread = (await this.client.markRead(c.id, upTo)).unreadCount;
      this.state.changed();
    } catch {
      this.reconcileSoon();
    }
  }

  /**
   * Sends a message (a reply when `replyToMessageId` is set): shown at once
   * as pending, then sent (it comes back from the server) or failed, with a
   * retry. A refusal (a block, say) is shown in the server's words.
   */
  send(conversationId: bigint, text: string, replyToMessageId = 0n, clientMsgId: string = crypto.randomUUID()): void {
    const entry = { clientMsgId, conversationId, text, replyToMessageId, state: "pending" as const, createdAt: Date.now() };
    this.state.outgoing.set(clientMsgId, entry);
    this.state.changed();
    this.typing(conversationId, false);
    this.client.send(conversationId, text, { clientMsgId, timeoutMs: SEND_TIMEOUT_MS, replyToMessageId }).then(
      () => this.settle(clientMsgId, "sent"),
      (err: unknown) => this.settle(clientMsgId, "failed", err instanceof ParleyError ? err.message : String(err)),
    );
  }

  /** Sends a failed message again with the same id: if an earlier attempt was stored after all, the server says so and nothing is doubled. */
  retry(clientMsgId: string): void {
    const failed = this.state.outgoing.get(clientMsgId);
    if (failed?.state === "failed") this.send(failed.conversationId, failed.text, failed.replyToMessageId, clientMsgId);
  }

  private settle(clientMsgId: string, outcome: "sent" | "failed", error?: string): void {
    const entry = this.state.outgoing.get(clientMsgId);
    if (!entry) return; // its stored copy arrived first and took its place
    entry.state = outcome;
    if (error !== undefined) entry.error = error;
    this.state.changed();
  }

  /** Tells the others this user is typing (at most every few seconds), or stopped. */
  typing(conversationId: bigint, typing: boolean): void {
    const now = Date.now();
    if (typing && now - this.typingSentAt < TYPING_REPEAT_MS) return;
    if (!typing && this.typingSentAt === 0) return;
    this.typingSentAt = typing ? now : 0;
    this.client.setTyping(conversationId, typing).catch(() => {});
  }

  /** Opens (creating on first use) the direct conversation with a user, found by username. */
  async openDirect(username: string): Promise<bigint> {
    const profile = await this.profiles.byUsername(username);
    const conversation = await this.client.openDirect(profile.userId);
    this.state.upsert(conversation);
    await this.open(conversation.conversationId);
    return conversation.conversationId;
  }

  async createGroup(name: string, usernames: string[]): Promise<bigint> {
    const members = await Promise.all(usernames.map((u) => this.profiles.byUsername(u)));
    const conversation = await this.client.createGroup(
      name,
      members.map((m) => m.userId),
    );
    this.state.upsert(conversation);
    await this.open(conversation.conversationId);
    return conversation.conversationId;
  }

  async addMember(conversationId: bigint, username: string): Promise<void> {
    const profile = await this.profiles.byUsername(username);
    this.state.upsert(await this.client.addMembers(conversationId, [profile.userId]));
    this.state.changed();
    void this.refreshPresence();
  }

  /** Removes a member; the user's own id leaves the group. */
  async removeMember(conversationId: bigint, userId: bigint): Promise<void> {
    await this.client.removeMember(conversationId, userId);
    await this.loadConversation(conversationId);
  }

  async setRole(conversationId: bigint, userId: bigint, role: MemberRole): Promise<void> {
    this.state.upsert(await this.client.setMemberRole(conversationId, userId, role));
    this.state.changed();
  }

  /** Asks for (or accepts) a friendship, so that both see each other's last-seen time. */
  async befriend(userId: bigint): Promise<void> {
    this.state.friends.set(userId, await addFriend(await this.tokens.token(), userId));
    this.state.changed();
  }

  async close(): Promise<void> {
    clearTimeout(this.reconcileTimer);
    clearInterval(this.presencePoll);
    await this.client.close().catch(() => {});
  }
}

/** Words for a failed call: the server's message when it sent one. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError || err instanceof ParleyError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
