import type { InboxEntry, StoredMessage } from "./ports.js";

/**
 * The message store's records and errors for edits and deletions
 * (re-exported by ports.ts, whose MessageStore port takes them).
 */

/** A message was deleted: for everyone (by its sender), or by a user for themselves only. */
export interface DeletionRecord {
  conversationId: bigint;
  messageId: bigint;
  forEveryone: boolean;
  byUserId: bigint;
  at: Date;
}

/** Why the store refused an edit or a deletion; nothing was written. */
export type MessageChangeRefusal =
  /** No such conversation. */
  | "no_conversation"
  /** The acting user is not a member (any more). */
  | "not_member"
  /** No such message in the conversation, or one before the user's history horizon. */
  | "no_message"
  /** Edit or delete for everyone of a message the user did not send (system messages included). */
  | "not_sender"
  /** Edit of a message deleted for everyone. */
  | "deleted"
  /** Edit or delete for everyone after the window. */
  | "too_late"
  /** A reaction with an emoji the message does not have yet, when it has REACTION_LIMITS.distinctPerMessage already. */
  | "too_many_emoji"
  /** A reaction by a user who has REACTION_LIMITS.perUserPerMessage on the message already. */
  | "too_many_mine";

/** Thrown by editMessage, deleteMessage and react with the reason; checked inside the store's transaction, against the state the change applies to. */
export class MessageChangeRefused extends Error {
  override name = "MessageChangeRefused";
  constructor(readonly reason: MessageChangeRefusal) {
    super(`message change refused: ${reason}`);
  }
}

/** An edit of a message's text by `userId`, who must be its sender. */
export interface MessageEdit {
  conversationId: bigint;
  messageId: bigint;
  userId: bigint;
  text: string;
  at: Date;
  /** Messages created before this are past the edit window (too_late); undefined: no window. */
  createdNotBefore?: Date;
}

/** A deletion of a message by `userId`: for everyone (its sender only), or for that user alone. */
export interface MessageDeletion {
  conversationId: bigint;
  messageId: bigint;
  userId: bigint;
  forEveryone: boolean;
  at: Date;
  /** For everyone only: messages created before this are past the window (too_late); undefined: no window. */
  createdNotBefore?: Date;
}

/** What an edit or a deletion stored. */
export interface MessageChangeOutcome {
  /** The message after the change, as the acting user sees it (text "" once deleted). */
  message: StoredMessage;
  /** False when there was nothing to do (the same text again, a repeated deletion): no entries then. */
  changed: boolean;
  /** The acting user's own seq of the change's entry (0 when unchanged). */
  actorSeq: bigint;
  /** One per recipient (every member, or the acting user alone for a deletion for themselves), ascending by user id. */
  entries: InboxEntry[];
}
