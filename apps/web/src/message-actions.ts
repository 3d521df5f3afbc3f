import type { Message, MessageDeleted, MessageReacted, ReactionCount } from "@parley/contracts/parley/chat/v1/chat";
import type { ChatController } from "./controller.js";
import { millis } from "./format.js";
import { type ConversationState, keepReactions } from "./state.js";

/**
 * Edits, deletions and reactions: the calls (edit, delete for everyone,
 * delete for me, react, unreact) and the `edited`, `deleted` and `reacted`
 * events that bring them from the server, from
 * this user's other tabs and devices and from the other members. The SDK
 * delivers those events exactly once, in inbox order; a call's own answer is
 * applied at once as well, so the screen does not wait for its event, and
 * whichever of the two comes second changes nothing.
 *
 * Built by the controller before it connects, so no event of the first sync
 * is missed.
 */
export class MessageActions {
  constructor(private readonly ctl: ChatController) {
    ctl.client.on("edited", (message) => this.applyEdited(message));
    ctl.client.on("deleted", (deletion) => this.applyDeleted(deletion));
    ctl.client.on("reacted", (reaction) => this.applyReacted(reaction));
  }

  /**
   * Adds this user's reaction, or removes it (`remove`). Throws the server's
   * refusal (a ParleyError: 3 reactions of this user's on the message
   * already, or 20 different ones on it).
   */
  async react(m: Message, emoji: string, remove: boolean): Promise<void> {
    const client = this.ctl.client;
    const answer = await (remove ? client.unreact(m.conversationId, m.messageId, emoji) : client.react(m.conversationId, m.messageId, emoji));
    // Once the inbox has delivered this change's own entry, later entries may have come too: theirs are newer counts.
    if (answer.seq === 0n || answer.seq > client.cursor) this.setReactions(m.conversationId, m.messageId, answer.reactions);
  }

  /** Replaces the text of one of this user's messages. Throws the server's refusal (a ParleyError: the edit window passed, say). */
  async edit(conversationId: bigint, messageId: bigint, text: string): Promise<void> {
    const { message } = await this.ctl.client.editMessage(conversationId, messageId, text);
    if (message) this.applyEdited(message);
  }

  /**
   * Deletes a message: for everyone (this user's own; it becomes a tombstone
   * for every member) or for this user only (it leaves their tabs and
   * devices). Throws the server's refusal.
   */
  async delete(conversationId: bigint, messageId: bigint, forEveryone: boolean): Promise<void> {
    await this.ctl.client.deleteMessage(conversationId, messageId, { forEveryone });
    this.tombstoneOrDrop(conversationId, messageId, forEveryone, undefined);
  }

  /** A message as it now stands (new text and editedAt, or a tombstone): it replaces the copy held, unless that one is newer. */
  private applyEdited(message: Message): void {
    const c = this.ctl.state.conversations.get(message.conversationId);
    if (!c) return;
    const held = c.messages.get(message.messageId);
    if (held && supersedes(message, held)) c.messages.set(message.messageId, keepReactions(message, held));
    if (c.lastMessage?.messageId === message.messageId && supersedes(message, c.lastMessage)) c.lastMessage = message;
    this.ctl.state.changed();
  }

  /** Every reacted entry carries the message's counts as they stood when read: they replace the ones shown. */
  private applyReacted(reaction: MessageReacted): void {
    this.setReactions(reaction.conversationId, reaction.messageId, reaction.reactions);
  }

  private setReactions(conversationId: bigint, messageId: bigint, reactions: ReactionCount[]): void {
    const c = this.ctl.state.conversations.get(conversationId);
    const held = c?.messages.get(messageId);
    if (!c || !held) return; // not loaded: history brings the counts when it is
    c.messages.set(messageId, { ...held, reactions });
    this.ctl.state.changed();
  }

  private applyDeleted(deletion: MessageDeleted): void {
    this.tombstoneOrDrop(deletion.conversationId, deletion.messageId, deletion.forEveryone, deletion.deletedAt);
  }

  /** Deleted for everyone: the message shows as a tombstone. For this user only: it goes, and the last message falls back to the newest one left. */
  private tombstoneOrDrop(conversationId: bigint, messageId: bigint, forEveryone: boolean, deletedAt: Message["deletedAt"]): void {
    const c = this.ctl.state.conversations.get(conversationId);
    if (!c) return;
    if (forEveryone) {
      const held = c.messages.get(messageId);
      if (held) c.messages.set(messageId, tombstone(held, deletedAt));
      if (c.lastMessage?.messageId === messageId) c.lastMessage = tombstone(c.lastMessage, deletedAt);
    } else {
      c.messages.delete(messageId);
      if (c.lastMessage?.messageId === messageId) c.lastMessage = newestLoaded(c);
    }
    // Unread counts leave deleted messages out: the list is re-read from the server.
    this.ctl.reconcileSoon();
    this.ctl.state.changed();
  }
}

/** Whether `incoming` is at least as new as `held`: a tombstone always is, nothing replaces one, and a later edit wins. */
function supersedes(incoming: Message, held: Message): boolean {
  if (incoming.deleted) return true;
  if (held.deleted) return false;
  return (millis(incoming.editedAt) ?? 0) >= (millis(held.editedAt) ?? 0);
}

/** The message as every member now sees it: no text, no system event, deleted. */
function tombstone(message: Message, deletedAt: Message["deletedAt"]): Message {
  if (message.deleted) return message;
  const { system: _system, deletedAt: _deletedAt, ...rest } = message;
  return { ...rest, text: "", deleted: true, ...(deletedAt ? { deletedAt } : {}) };
}

/** The newest message still loaded (undefined when none is: the list's next re-read brings the server's). */
function newestLoaded(c: ConversationState): Message | undefined {
  let newest: Message | undefined;
  for (const m of c.messages.values()) if (newest === undefined || m.messageId > newest.messageId) newest = m;
  return newest;
}
