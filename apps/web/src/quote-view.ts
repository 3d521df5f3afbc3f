import type { QuotedMessage } from "@parley/contracts/parley/chat/v1/chat";
import type { ChatController } from "./controller.js";
import { h } from "./dom.js";
import type { ConversationState } from "./state.js";

/** How much of the quoted text a reply shows (the server's previews are 100 code points). */
const PREVIEW_CHARS = 100;

/** The server's quote, or one made here for a send still pending (of a loaded message). */
export type QuoteSource = Pick<QuotedMessage, "messageId" | "senderId" | "textPreview" | "deleted" | "unavailable">;

/** What a quote shows: who and what, or why not. */
export interface Quote {
  messageId: bigint;
  state: "shown" | "deleted" | "unavailable";
  sender: string;
  text: string;
}

/**
 * The message a reply quotes, as it stands now: the loaded copy when there
 * is one (edits and deletions made since the reply arrived show at once),
 * else the server's quote, which history resolves when it is read.
 */
export function quoteOf(ctl: ChatController, c: ConversationState, replyTo: QuoteSource): Quote {
  const messageId = replyTo.messageId;
  if (replyTo.unavailable) return { messageId, state: "unavailable", sender: "", text: "The quoted message is not available to you" };
  const loaded = c.messages.get(messageId);
  const deleted = loaded ? loaded.deleted : replyTo.deleted;
  const senderId = loaded ? loaded.senderId : replyTo.senderId;
  const sender = senderId === 0n ? "" : senderId === ctl.me ? "You" : ctl.profiles.nameOf(senderId);
  if (deleted) return { messageId, state: "deleted", sender, text: "The original message was deleted" };
  const full = loaded ? loaded.text : replyTo.textPreview;
  const chars = Array.from(full);
  const text = chars.length > PREVIEW_CHARS ? `${chars.slice(0, PREVIEW_CHARS - 1).join("")}…` : full;
  return { messageId, state: "shown", sender, text };
}

export function quoteSignature(q: Quote | undefined): string {
  return q === undefined ? "" : `${q.messageId}|${q.state}|${q.sender}|${q.text}`;
}

/**
 * A reply's quote: a button that shows the quoted message in the list
 * (`jump`), or plain text when the reader may not see it.
 */
export function quoteView(q: Quote, jump: (messageId: bigint) => void): HTMLElement {
  const parts = [q.sender ? h("span", { class: "quote-sender", text: q.sender }) : null, h("span", { class: "quote-text", text: q.text })];
  if (q.state === "unavailable") return h("p", { class: "quote unavailable", attrs: { "data-state": q.state } }, ...parts);
  const label = q.state === "deleted" ? "Replying to a deleted message: show it" : `Replying to ${q.sender}: ${q.text}. Show the quoted message`;
  return h(
    "button",
    { class: `quote ${q.state}`, attrs: { type: "button", "aria-label": label, "data-state": q.state }, on: { click: () => jump(q.messageId) } },
    ...parts,
  );
}
