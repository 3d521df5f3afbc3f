import type { ChatController } from "./controller.js";
import { fill, h } from "./dom.js";
import { preview } from "./format.js";
import { presenceDot } from "./presence-view.js";

/**
 * The conversation list: one button per conversation (newest activity
 * first) with its name, last message, unread count, an "@" when unread
 * messages mention this user and, for direct
 * conversations, the other user's presence. Buttons are kept across redraws
 * (keyed by conversation), so keyboard focus stays where it was.
 */
export class ConversationList {
  readonly element = h("ul", { id: "conversation-list", class: "conversations", attrs: { "aria-label": "Conversations" } });
  private readonly items = new Map<bigint, { li: HTMLLIElement; button: HTMLButtonElement }>();

  constructor(private readonly ctl: ChatController) {}

  render(): void {
    const { state } = this.ctl;
    const sorted = state.sorted();
    const seen = new Set<bigint>();
    sorted.forEach((c, index) => {
      seen.add(c.id);
      let item = this.items.get(c.id);
      if (!item) {
        const button = h("button", { class: "conversation", attrs: { type: "button", "data-conversation-id": String(c.id) } });
        button.addEventListener("click", () => void this.ctl.open(c.id));
        item = { li: h("li", {}, button), button };
        this.items.set(c.id, item);
      }
      const title = this.ctl.titleOf(c);
      const peer = state.peerOf(c);
      const unread = c.unread > 0 ? h("span", { class: "unread", text: String(c.unread), attrs: { "aria-label": `${c.unread} unread` } }) : null;
      const mentions = c.unreadMentions;
      const mentioned =
        mentions > 0
          ? h("span", { class: "mentioned", text: "@", attrs: { "aria-label": `${mentions} unread ${mentions === 1 ? "mention" : "mentions"}` } })
          : null;
      const kind = peer === undefined ? h("span", { class: "kind", text: "group" }) : presenceDot(state.presence.get(peer));
      fill(
        item.button,
        h("span", { class: "row" }, kind, h("span", { class: "title", text: title }), mentioned, unread),
        h("span", { class: "preview", text: c.left ? "You are no longer in this group" : preview(c.lastMessage, this.ctl.profiles.nameOf, state.me) }),
      );
      item.button.setAttribute("aria-current", state.openId === c.id ? "true" : "false");
      item.button.dataset.unread = String(c.unread);
      if (this.element.children[index] !== item.li) this.element.insertBefore(item.li, this.element.children[index] ?? null);
    });
    for (const [id, item] of this.items) {
      if (seen.has(id)) continue;
      item.li.remove();
      this.items.delete(id);
    }
    if (sorted.length === 0 && this.element.children.length === 0) {
      this.element.append(h("li", { class: "empty", text: "No conversations yet: start one above." }));
    } else if (sorted.length > 0) {
      for (const stale of this.element.querySelectorAll(":scope > li.empty")) stale.remove();
    }
  }
}
