import type { Message } from "@parley/contracts/parley/chat/v1/chat";
import { type ChatController, errorText } from "./controller.js";
import { h } from "./dom.js";

/** What the message menu offers to react with: a short fixed choice (any single emoji is allowed by the server). */
export const PALETTE = ["👍", "❤️", "😂", "😮", "😢", "🙏"] as const;

/**
 * A message's reactions as chips (emoji and count; this user's own are
 * pressed), each a toggle: clicking adds or removes this user's reaction.
 * The menu's palette goes through `toggle` too. A refusal (the server allows
 * 3 reactions per user and 20 different ones per message) stays on the
 * message in words (role="alert") until the next reaction step there.
 */
export class ReactionsView {
  /** Refusals by message id. */
  private readonly errors = new Map<bigint, string>();
  /** Calls under way, by message id and emoji: a second click waits for the first. */
  private readonly busy = new Set<string>();
  /** The chip to focus once the list has redrawn it (a redraw replaces the clicked button). */
  private focusWanted: { messageId: bigint; emoji: string } | undefined;
  private focusNow: HTMLElement | undefined;

  constructor(private readonly ctl: ChatController) {}

  /** Changes whenever what `parts` draws changes. */
  signature(m: Message): string {
    const counts = m.reactions.map((r) => `${r.emoji}${r.count}${r.mine ? "+" : ""}`).join(",");
    return `${counts}|${this.errors.get(m.messageId) ?? ""}`;
  }

  /** The chips and the last refusal; nothing for a message with neither (or deleted for everyone). */
  parts(m: Message): HTMLElement[] {
    const parts: HTMLElement[] = [];
    if (m.reactions.length > 0 && !m.deleted) {
      const chips = m.reactions.map((r) => {
        const chip = h("button", {
          class: r.mine ? "reaction mine" : "reaction",
          text: `${r.emoji} ${r.count}`,
          attrs: {
            type: "button",
            "aria-pressed": r.mine ? "true" : "false",
            "aria-label": `${r.emoji} ${r.count}${r.mine ? ", yours: remove it" : ": add yours"}`,
            "data-emoji": r.emoji,
          },
          on: { click: () => void this.toggle(m, r.emoji) },
        });
        if (this.focusWanted?.messageId === m.messageId && this.focusWanted.emoji === r.emoji) this.focusNow = chip;
        return h("li", {}, chip);
      });
      parts.push(h("ul", { class: "reactions", attrs: { "aria-label": "Reactions" } }, ...chips));
    }
    const error = this.errors.get(m.messageId);
    if (error) parts.push(h("p", { class: "action-error", text: error, attrs: { role: "alert" } }));
    return parts;
  }

  /**
   * Puts the focus back on the clicked chip once the list has redrawn it
   * (while its call is under way, and once more after), unless the user has
   * moved on meanwhile: only a focus lost with the old button is restored.
   */
  afterRender(): void {
    const el = this.focusNow;
    this.focusNow = undefined;
    const lost = document.activeElement === null || document.activeElement === document.body;
    if (el?.isConnected && lost) el.focus();
    const wanted = this.focusWanted;
    if (wanted && !this.busy.has(`${wanted.messageId}|${wanted.emoji}`)) this.focusWanted = undefined;
  }

  /** Adds this user's `emoji` to the message, or removes it when it is theirs already. */
  async toggle(m: Message, emoji: string, keepFocus = true): Promise<void> {
    const k = key(m, emoji);
    if (this.busy.has(k)) return;
    const held = this.ctl.state.conversations.get(m.conversationId)?.messages.get(m.messageId) ?? m;
    const remove = held.reactions.some((r) => r.emoji === emoji && r.mine);
    this.busy.add(k);
    this.errors.delete(m.messageId);
    if (keepFocus) this.focusWanted = { messageId: m.messageId, emoji };
    this.ctl.state.changed();
    try {
      await this.ctl.actions.react(held, emoji, remove);
      this.ctl.onAnnounce(remove ? `Reaction ${emoji} removed` : `Reacted with ${emoji}`);
    } catch (err) {
      this.errors.set(m.messageId, `${remove ? "Not removed" : "Not added"}: ${errorText(err)}`);
    } finally {
      this.busy.delete(k);
      this.ctl.state.changed();
    }
  }

  /** Forgets refusals (another conversation was opened). */
  reset(): void {
    this.errors.clear();
    this.focusWanted = undefined;
  }
}

function key(m: Message, emoji: string): string {
  return `${m.messageId}|${emoji}`;
}
