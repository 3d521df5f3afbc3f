import type {
  Conversation,
  DeleteMessageResponse,
  EditMessageResponse,
  HistoryResponse,
  ListConversationsResponse,
  MarkReadResponse,
  MemberReceipt,
  MemberRole,
  SearchMessagesResponse,
  ReactResponse,
} from "@parley/contracts/parley/chat/v1/chat";
import type { UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import type { ReplyOf, RequestBody, RequestKind } from "@parley/wire";
import { Emitter } from "./emitter.js";
import { ParleyError, required } from "./errors.js";
import type { ClientEvents } from "./options.js";

/**
 * The client's requests that are one request and one reply (everything but
 * send, which has the outbox, and sync, which the client runs itself), on
 * top of `call`: ParleyClient supplies it (the current connection, waiting
 * for a reconnect within the request timeout).
 */
export abstract class ChatRequests extends Emitter<ClientEvents> {
  protected abstract call<K extends RequestKind>(kind: K, body: RequestBody<K>): Promise<ReplyOf<K>>;

  /** The one-to-one conversation with another user, created on first use. */
  async openDirect(peerUserId: bigint): Promise<Conversation> {
    const { conversation } = await this.call("openDirect", { peerUserId });
    if (!conversation) throw new ParleyError("INTERNAL", "openDirect answered without a conversation");
    return conversation;
  }

  /** A page of a conversation's history, newest first; pass the oldest id as `beforeMessageId` for the next page. */
  history(conversationId: bigint, page: { beforeMessageId?: bigint; limit?: number } = {}): Promise<HistoryResponse> {
    return this.call("history", { conversationId, beforeMessageId: page.beforeMessageId ?? 0n, limit: page.limit ?? 0 });
  }

  /** The user's conversations by latest activity, with last message and unread count. */
  listConversations(page: { limit?: number; pageToken?: string } = {}): Promise<ListConversationsResponse> {
    return this.call("listConversations", { limit: page.limit ?? 0, pageToken: page.pageToken ?? "" });
  }

  /** Marks a conversation read up to and including a message, on all the user's devices. */
  markRead(conversationId: bigint, messageId: bigint): Promise<MarkReadResponse> {
    return this.call("markRead", { conversationId, messageId });
  }

  /** Tells the conversation's members that the user is (or stopped) typing. */
  async setTyping(conversationId: bigint, typing = true): Promise<void> {
    await this.call("setTyping", { conversationId, typing });
  }

  /** A conversation with its current members. */
  async getConversation(conversationId: bigint): Promise<Conversation> {
    return required((await this.call("getConversation", { conversationId })).conversation);
  }

  /** Creates a group with the user as owner and `memberIds` as members. */
  async createGroup(name: string, memberIds: bigint[], settings?: { historyVisibleToNewMembers: boolean }): Promise<Conversation> {
    return required((await this.call("createGroup", { name, memberIds, ...(settings ? { settings } : {}) })).conversation);
  }

  /** Renames a group and/or changes its settings (admins and the owner). */
  async updateGroup(conversationId: bigint, change: { name?: string; settings?: { historyVisibleToNewMembers: boolean } }): Promise<Conversation> {
    return required(
      (await this.call("updateGroup", { conversationId, name: change.name ?? "", ...(change.settings ? { settings: change.settings } : {}) })).conversation,
    );
  }

  /** Adds members to a group (admins and the owner). */
  async addMembers(conversationId: bigint, userIds: bigint[]): Promise<Conversation> {
    return required((await this.call("addMembers", { conversationId, userIds })).conversation);
  }

  /** Removes a member; with the user's own id, leaves the group. */
  async removeMember(conversationId: bigint, userId: bigint): Promise<void> {
    await this.call("removeMember", { conversationId, userId });
  }

  /** Changes a member's role; MemberRole.OWNER hands ownership over (the owner only). */
  async setMemberRole(conversationId: bigint, userId: bigint, role: MemberRole): Promise<Conversation> {
    return required((await this.call("setMemberRole", { conversationId, userId, role })).conversation);
  }

  /** Deletes a group for everyone (the owner only). */
  async deleteGroup(conversationId: bigint): Promise<void> {
    await this.call("deleteGroup", { conversationId });
  }

  /** Who of the members has received and read a message. */
  async getReceipts(conversationId: bigint, messageId: bigint): Promise<MemberReceipt[]> {
    return (await this.call("getReceipts", { conversationId, messageId })).receipts;
  }

  /** The presence of some users (at most 200). */
  async getPresence(userIds: bigint[]): Promise<UserPresence[]> {
    return (await this.call("getPresence", { userIds })).presences;
  }

  /**
   * Replaces the text of one of the user's own messages (within the server's
   * edit window, 15 minutes by default). Every member's devices get an
   * `edited` event, this user's other devices too. The same text again is
   * answered with unchanged: true and changes nothing.
   */
  editMessage(conversationId: bigint, messageId: bigint, text: string): Promise<EditMessageResponse> {
    return this.call("editMessage", { conversationId, messageId, text });
  }

  /**
   * Deletes a message. `forEveryone`: the user's own message, for every member
   * (its text is erased on the server; history shows a tombstone). Otherwise
   * for this user only, on all their devices (it leaves their history). A
   * repeat is answered with unchanged: true.
   */
  deleteMessage(conversationId: bigint, messageId: bigint, options: { forEveryone: boolean }): Promise<DeleteMessageResponse> {
    return this.call("deleteMessage", { conversationId, messageId, forEveryone: options.forEveryone });
  }

  /**
   * The user's messages holding every word of `query` (1 to 200 characters,
   * 1 to 10 words, matched whole and in any case), newest first, across
   * their conversations or in one (`conversationId`); only what their
   * history shows. Each hit has the message, a snippet and the words'
   * ranges in it (code points). For the next page pass the answer's
   * nextBeforeMessageId (0n: no more) as `beforeMessageId`; `limit` 1 to 50
   * (20 by default). A server whose store has no search index (Cassandra)
   * answers FAILED_PRECONDITION.
   */
  searchMessages(query: string, options: { conversationId?: bigint; beforeMessageId?: bigint; limit?: number } = {}): Promise<SearchMessagesResponse> {
    return this.call("searchMessages", {
      query,
      conversationId: options.conversationId ?? 0n,
      beforeMessageId: options.beforeMessageId ?? 0n,
      limit: options.limit ?? 0,
    });
  }

  /**
   * Adds the user's reaction (exactly one emoji) to a message; every member's
   * devices get a `reacted` event, this user's other devices too. At most 3
   * per user and 20 distinct emoji per message. A reaction already there is
   * answered with unchanged: true. The reply has the message's counts.
   */
  react(conversationId: bigint, messageId: bigint, emoji: string): Promise<ReactResponse> {
    return this.call("react", { conversationId, messageId, emoji, remove: false });
  }

  /** Removes the user's reaction `emoji` from a message; one that is not there is answered with unchanged: true. */
  unreact(conversationId: bigint, messageId: bigint, emoji: string): Promise<ReactResponse> {
    return this.call("react", { conversationId, messageId, emoji, remove: true });
  }
}
