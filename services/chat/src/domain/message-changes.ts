import { InvalidInput, NotAllowed, NotFound, PreconditionFailed } from "../errors.js";
import { checkText } from "./limits.js";
import { MessageChangeRefused, REACTION_LIMITS } from "../ports.js";
import type { DeliveryBus, MessageChangeOutcome, MessageChangeRefusal, MessageStore, PushEraser } from "../ports.js";
import type { Actor } from "./chat.js";

export interface MessageChangesOptions {
  store: MessageStore;
  bus: DeliveryBus;
  now: () => Date;
  /** How long after sending the sender may edit, in seconds; 0: no limit. */
  editWindowSeconds: number;
  /** How long after sending the sender may delete for everyone, in seconds; 0: no limit. */
  deleteWindowSeconds: number;
  /** Takes a message deleted for everyone out of notify; absent: no pushes to take back (notify not configured). */
  pushEraser?: PushEraser;
}

/**
 * Edits and deletions of messages, through the send path's pipeline: the
 * store checks the rules against the state it changes and writes the change
 * with an inbox entry per recipient in one transaction (every member; the
 * acting user alone for a deletion for themselves); only then the reply, and
 * the entries go on the bus to the recipients' connected devices (the actor's
 * other devices too). No push: an edit or a deletion is not news to wake a
 * phone for. A deletion for everyone also takes the message's text out of
 * the notifications notify keeps (and its pushes not sent yet), once stored.
 */
export class MessageChanges {
  constructor(private readonly o: MessageChangesOptions) {}

  async edit(actor: Actor, conversationId: bigint, messageId: bigint, text: string): Promise<MessageChangeOutcome> {
    requireIds(conversationId, messageId);
    checkText(text);
    const at = this.o.now();
    const outcome = await this.o.store
      .editMessage({ conversationId, messageId, userId: actor.userId, text, at, ...windowStart(at, this.o.editWindowSeconds) })
      .catch(refusal(conversationId, messageId, "edit", this.o.editWindowSeconds));
    this.publish(outcome);
    return outcome;
  }

  /** `anyTime`: no delete window (an operator's deletion in its sender's name). */
  async delete(actor: Actor, conversationId: bigint, messageId: bigint, forEveryone: boolean, anyTime = false): Promise<MessageChangeOutcome> {
    requireIds(conversationId, messageId);
    const at = this.o.now();
    const window = forEveryone && !anyTime ? windowStart(at, this.o.deleteWindowSeconds) : {};
    const outcome = await this.o.store
      .deleteMessage({ conversationId, messageId, userId: actor.userId, forEveryone, at, ...window })
      .catch(refusal(conversationId, messageId, "delete", this.o.deleteWindowSeconds));
    this.publish(outcome);
    // Every member at deletion time may have a push of it (the sender never does). A repeated
    // deletion changes nothing and names no one: the first one's erase covers it.
    if (forEveryone && outcome.changed) {
      const recipients = outcome.entries.map((e) => e.userId).filter((userId) => userId !== outcome.message.senderId);
      if (recipients.length > 0) this.o.pushEraser?.messageDeleted(messageId, recipients);
    }
    return outcome;
  }

  private publish(outcome: MessageChangeOutcome): void {
    for (const entry of outcome.entries) this.o.bus.publish(entry.userId, { kind: "entry", entry });
  }
}

export function requireIds(conversationId: bigint, messageId: bigint): void {
  if (conversationId === 0n) throw new InvalidInput("conversation_id", "is required");
  if (messageId === 0n) throw new InvalidInput("message_id", "is required");
}

/** The earliest creation time still inside a window of `seconds` (0: no window). */
function windowStart(at: Date, seconds: number): { createdNotBefore?: Date } {
  return seconds === 0 ? {} : { createdNotBefore: new Date(at.getTime() - seconds * 1_000) };
}

/** The store's refusals as the domain's errors, each with a message for the client developer. */
export function refusal(conversationId: bigint, messageId: bigint, action: "edit" | "delete" | "react", windowSeconds: number) {
  const errors: Record<MessageChangeRefusal, () => Error> = {
    no_conversation: () => new NotFound(`no conversation with id ${conversationId}`),
    not_member: () => new NotAllowed("you are not a member of this conversation"),
    no_message: () => new NotFound(`no message with id ${messageId} in conversation ${conversationId}`),
    not_sender: () =>
      new NotAllowed(
        action === "edit" ? "you may edit only your own messages" : "you may delete only your own messages for everyone; delete it for yourself instead",
      ),
    deleted: () => new InvalidInput("message_id", `names a deleted message, which cannot be ${action === "react" ? "reacted to" : "edited"}`),
    too_late: () => new PreconditionFailed(`the ${action} window (${windowSeconds} seconds after sending) of this message has passed`),
    too_many_emoji: () =>
      new PreconditionFailed(`message ${messageId} has ${REACTION_LIMITS.distinctPerMessage} different reactions already, the most a message may have`),
    too_many_mine: () =>
      new PreconditionFailed(`you have ${REACTION_LIMITS.perUserPerMessage} reactions on message ${messageId} already, the most per member; remove one first`),
  };
  return (err: unknown): never => {
    if (err instanceof MessageChangeRefused) throw errors[err.reason]();
    throw err;
  };
}
