import { InvalidInput, NotAllowed, NotFound } from "../errors.js";
import type { InboxEntry, InboxItem, MessageStore, QuotedMessage, ReplyTarget, StoredMessage } from "../ports.js";

type Found = Extract<ReplyTarget, { kind: "found" }>;

/**
 * Replies: what a send's reply_to names is checked with one store read
 * before the send (sends that are no replies read nothing more), and the
 * quote each reader sees is filled in when messages are read: live entries
 * from that read, history and sync with one more read of the quoted
 * messages when the page holds replies, so a later edit or deletion of the
 * quoted message shows.
 */
export class Replies {
  constructor(private readonly store: Pick<MessageStore, "replyTarget" | "quotesOf">) {}

  /** The quoted message for a reply by `userId`, or the refusal: NOT_FOUND, PERMISSION_DENIED, INVALID_ARGUMENT for a deleted one. */
  async target(userId: bigint, conversationId: bigint, replyTo: bigint): Promise<Found> {
    const target = await this.store.replyTarget(conversationId, replyTo, userId);
    switch (target.kind) {
      case "no_conversation":
        throw new NotFound(`no conversation with id ${conversationId}`);
      case "not_member":
        throw new NotAllowed("you are not a member of this conversation");
      case "no_message":
        throw new NotFound(`reply_to_message_id: no message with id ${replyTo} in conversation ${conversationId} to reply to`);
      case "found":
        if (target.quote.deleted) throw new InvalidInput("reply_to_message_id", "names a deleted message, which cannot be replied to");
        return target;
    }
  }

  /** A reply's live entries, each with the quote as its recipient may see it (unavailable before their horizon). */
  quoted(entries: InboxEntry[], target: Found): InboxEntry[] {
    const unavailable: QuotedMessage = { messageId: target.quote.messageId, senderId: 0n, preview: "", deleted: false, unavailable: true };
    return entries.map((entry) => {
      if (entry.item.kind !== "message") return entry;
      const replyTo = target.blind.includes(entry.userId) ? unavailable : target.quote;
      return { ...entry, item: { kind: "message", message: { ...entry.item.message, replyTo } } };
    });
  }

  /** The messages with the quotes of those that are replies, as the viewer sees them (no read when none is a reply). */
  async withQuotes(messages: StoredMessage[], viewerId: bigint): Promise<StoredMessage[]> {
    const quotes = await this.quotes(messages, viewerId);
    return quotes === undefined ? messages : messages.map((m) => withQuote(m, quotes));
  }

  /** The entries whose message (message and edited entries) is a reply, with its quote as the viewer sees it. */
  async inEntries(entries: InboxEntry[], viewerId: bigint): Promise<InboxEntry[]> {
    const quotes = await this.quotes(
      entries.flatMap((e) => messageOf(e.item) ?? []),
      viewerId,
    );
    if (quotes === undefined) return entries;
    return entries.map((entry) => {
      const { item } = entry;
      if (item.kind !== "message" && item.kind !== "edited") return entry;
      return { ...entry, item: { kind: item.kind, message: withQuote(item.message, quotes) } };
    });
  }

  private async quotes(messages: StoredMessage[], viewerId: bigint): Promise<Map<bigint, QuotedMessage> | undefined> {
    const keys = messages.flatMap((m) => (m.replyToMessageId === undefined ? [] : [{ conversationId: m.conversationId, messageId: m.replyToMessageId }]));
    return keys.length === 0 ? undefined : this.store.quotesOf(keys, viewerId);
  }
}

const messageOf = (item: InboxItem): StoredMessage | undefined => (item.kind === "message" || item.kind === "edited" ? item.message : undefined);

function withQuote(message: StoredMessage, quotes: Map<bigint, QuotedMessage>): StoredMessage {
  if (message.replyToMessageId === undefined) return message;
  // A quoted message is never removed (a deletion leaves a tombstone): absent only if a store lost it.
  const replyTo = quotes.get(message.replyToMessageId) ?? { messageId: message.replyToMessageId, senderId: 0n, preview: "", deleted: true, unavailable: false };
  return { ...message, replyTo };
}
