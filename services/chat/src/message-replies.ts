/**
 * The message store's records for replies (re-exported by ports.ts, whose
 * MessageStore port takes them).
 */

/** How many code points of the quoted text a reply shows. */
export const QUOTE_PREVIEW_CODE_POINTS = 100;

/** The message a reply quotes, as one reader may see it (read when the reply is read, so later edits and deletions show). */
export interface QuotedMessage {
  messageId: bigint;
  /** 0 when unavailable. */
  senderId: bigint;
  /** The first QUOTE_PREVIEW_CODE_POINTS code points of its text; "" when deleted, unavailable, or a system message. */
  preview: string;
  /** Deleted for everyone, or by the reader for themselves. */
  deleted: boolean;
  /** Before the reader's history horizon: only messageId is set. */
  unavailable: boolean;
}

/** What a send's reply_to names, as the store found it for the sender (one read). */
export type ReplyTarget =
  | { kind: "no_conversation" }
  | { kind: "not_member" }
  /** No such message in the conversation, or one before the sender's horizon. */
  | { kind: "no_message" }
  | {
      kind: "found";
      /** The quote as the sender sees it (deleted: true for a message deleted for everyone). */
      quote: QuotedMessage;
      /** Members whose history horizon is after the quoted message: to them it is unavailable. */
      blind: bigint[];
    };

/** A quote of `message` for a reader: unavailable before their horizon, no preview once deleted. */
export function quoteOf(
  message: { messageId: bigint; senderId: bigint; text: string; deleted: boolean },
  readerHorizon: bigint,
  hiddenForReader: boolean,
): QuotedMessage {
  const { messageId } = message;
  if (messageId < readerHorizon) return { messageId, senderId: 0n, preview: "", deleted: false, unavailable: true };
  const deleted = message.deleted || hiddenForReader;
  return { messageId, senderId: message.senderId, preview: deleted ? "" : previewOf(message.text), deleted, unavailable: false };
}

/** The first QUOTE_PREVIEW_CODE_POINTS code points (a cheap bound first: no more code points than UTF-16 units). */
export function previewOf(text: string): string {
  if (text.length <= QUOTE_PREVIEW_CODE_POINTS) return text;
  let units = 0;
  let points = 0;
  for (const ch of text) {
    if (points++ === QUOTE_PREVIEW_CODE_POINTS) break;
    units += ch.length;
  }
  return text.slice(0, units);
}
