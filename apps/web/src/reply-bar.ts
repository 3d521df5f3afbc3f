import type { Message } from "@parley/contracts/parley/chat/v1/chat";
import type { ChatController } from "./controller.js";
import { fill, h } from "./dom.js";
import { quoteOf, quoteSignature } from "./quote-view.js";
import type { ConversationState } from "./state.js";

/**
 * The message the next send replies to, shown above the message box with a
 * Cancel button (Escape in the box cancels too). It belongs to one
 * conversation: opening another clears it. If the message is deleted for
 * everyone meanwhile, the bar says so; the server then refuses the reply
 * and the failed send says why.
 */
export class ReplyBar {
  readonly element = h("div", { id: "reply-bar", class: "reply-bar", attrs: { role: "group", "aria-label": "Reply" } });
  private target: Message | undefined;
  private shown = "";

  constructor(
    private readonly ctl: ChatController,
    private readonly focusComposer: () => void,
  ) {
    this.element.hidden = true;
  }

  /** The id of the message to reply to, 0n for none. */
  get messageId(): bigint {
    return this.target?.messageId ?? 0n;
  }

  set(m: Message): void {
    this.target = m;
    this.ctl.state.changed();
    this.ctl.onAnnounce(`Replying to ${m.senderId === this.ctl.me ? "your message" : this.ctl.profiles.nameOf(m.senderId)}`);
    this.focusComposer();
  }

  /** Drops the target; returns whether there was one. */
  clear(): boolean {
    if (!this.target) return false;
    this.target = undefined;
    this.ctl.state.changed();
    return true;
  }

  render(c: ConversationState | undefined): void {
    if (this.target && this.target.conversationId !== c?.id) this.target = undefined;
    const m = this.target;
    this.element.hidden = m === undefined || c === undefined;
    if (m === undefined || c === undefined) {
      this.shown = "";
      return;
    }
    const quote = quoteOf(this.ctl, c, { ...m, textPreview: m.text, unavailable: false });
    const signature = quoteSignature(quote);
    if (signature === this.shown) return; // keeps the Cancel button (and a focus on it) across redraws
    this.shown = signature;
    const cancel = h("button", {
      class: "secondary",
      text: "Cancel",
      attrs: { type: "button", "aria-label": "Cancel reply" },
      on: {
        click: () => {
          this.clear();
          this.focusComposer();
        },
      },
    });
    fill(
      this.element,
      h(
        "p",
        { class: `quote ${quote.state}` },
        h("span", { class: "reply-label", text: "Replying to " }),
        h("span", { class: "quote-sender", text: quote.sender }),
        h("span", { class: "quote-text", text: quote.text }),
      ),
      cancel,
    );
  }
}
