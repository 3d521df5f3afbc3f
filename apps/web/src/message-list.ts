import type { Message } from "@parley/contracts/parley/chat/v1/chat";
import type { ChatController } from "./controller.js";
import { fill, h } from "./dom.js";
import { clock, millis, systemText, TOMBSTONE_TEXT } from "./format.js";
import { MessageMenu } from "./message-menu.js";
import type { ConversationState, Outgoing } from "./state.js";

/** How close to the top a scroll must come to load older messages. */
const LOAD_OLDER_WITHIN_PX = 80;

/**
 * The open conversation's messages, oldest first: stored messages, then this
 * device's sends still pending or failed (with a Retry button). Elements are
 * kept by key across redraws (focus on a Retry button survives), the view
 * stays at the bottom when it was there and keeps its place when older
 * messages come in above. Scrolling to the top loads older messages.
 */
export class MessageList {
  readonly loadOlder = h("button", { id: "load-older", class: "secondary", text: "Load older messages", attrs: { type: "button" } });
  readonly list = h("ol", { id: "messages", class: "messages", attrs: { "aria-label": "Messages" } });
  readonly element = h("div", { class: "scroller", attrs: { tabindex: 0, "aria-label": "Message history" } }, this.loadOlder, this.list);
  private readonly items = new Map<string, HTMLLIElement>();
  private readonly menu: MessageMenu;
  private shownId: bigint | undefined;

  constructor(private readonly ctl: ChatController) {
    this.menu = new MessageMenu(ctl, () => this.element.focus());
    this.loadOlder.addEventListener("click", () => this.older());
    this.element.addEventListener("scroll", () => {
      if (this.element.scrollTop < LOAD_OLDER_WITHIN_PX) this.older();
    });
  }

  private older(): void {
    const c = this.ctl.state.open;
    if (c) void this.ctl.loadOlder(c);
  }

  render(c: ConversationState): void {
    const switched = this.shownId !== c.id;
    if (switched) {
      this.items.clear();
      this.list.replaceChildren();
      this.shownId = c.id;
      this.menu.reset();
    }
    const view = this.element;
    const atBottom = switched || view.scrollHeight - view.scrollTop - view.clientHeight < 40;
    const fromBottom = view.scrollHeight - view.scrollTop;
    const firstBefore = this.list.firstElementChild;

    const timeline = this.ctl.state.timeline(c);
    const lastMine = [...timeline].reverse().find((m): m is Message => "messageId" in m && m.senderId === this.ctl.me);
    const keys = new Set<string>();
    timeline.forEach((m, index) => {
      const key = "messageId" in m ? `m${m.messageId}` : `o${m.clientMsgId}`;
      keys.add(key);
      let li = this.items.get(key);
      if (!li) {
        li = h("li");
        this.items.set(key, li);
      }
      if ("messageId" in m) this.stored(li, m, c, m === lastMine);
      else this.outgoing(li, m);
      if (this.list.children[index] !== li) this.list.insertBefore(li, this.list.children[index] ?? null);
    });
    for (const [key, li] of this.items) {
      if (keys.has(key)) continue;
      li.remove();
      this.items.delete(key);
    }
    this.loadOlder.hidden = (c.historyLoaded && !c.hasOlder) || c.left;
    this.loadOlder.disabled = c.loadingOlder;
    this.loadOlder.textContent = c.loadingOlder ? "Loading…" : "Load older messages";

    if (atBottom) view.scrollTop = view.scrollHeight;
    else if (this.list.firstElementChild !== firstBefore) view.scrollTop = view.scrollHeight - fromBottom;
    this.menu.afterRender();
  }

  private stored(li: HTMLLIElement, m: Message, c: ConversationState, lastMine: boolean): void {
    const nameOf = this.ctl.profiles.nameOf;
    li.dataset.messageId = String(m.messageId);
    if (m.senderId === 0n) {
      const text = systemText(m, nameOf);
      if (unchanged(li, text)) return;
      li.className = "msg system";
      fill(li, h("p", { class: "text", text }));
      return;
    }
    const mine = m.senderId === this.ctl.me;
    let words: string | undefined;
    if (mine && lastMine) {
      const readers = [...c.readUpTo].filter(([, upTo]) => upTo >= m.messageId).map(([userId]) => nameOf(userId));
      words = readers.length === 0 ? "Sent" : this.ctl.state.peerOf(c) !== undefined ? "Seen" : `Seen by ${readers.join(", ")}`;
    }
    const sender = mine ? "You" : nameOf(m.senderId);
    const edited = millis(m.editedAt);
    if (unchanged(li, `${sender}|${words}|${m.deleted}|${edited}|${m.text}|${this.menu.signature(m)}`)) return;
    li.className = `msg ${mine ? "mine" : "theirs"}${m.deleted ? " deleted" : ""}`;
    li.dataset.state = "sent";
    const actions = this.menu.parts(m, mine);
    const mark = edited !== undefined && !m.deleted ? h("span", { class: "edited", text: "(edited)", attrs: { title: `Edited ${clock(edited)}` } }) : null;
    fill(
      li,
      h("p", { class: "meta" }, h("span", { class: "sender", text: sender }), " ", h("time", { text: clock(millis(m.createdAt)) }), " ", mark, actions.toggle),
      actions.replacesText ? null : m.deleted ? h("p", { class: "text tombstone", text: TOMBSTONE_TEXT }) : h("p", { class: "text", text: m.text }),
      actions.panel,
      words === undefined ? null : h("p", { class: "status", text: words }),
    );
  }

  private outgoing(li: HTMLLIElement, o: Outgoing): void {
    if (unchanged(li, `${o.state}|${o.error}`)) return;
    li.className = "msg mine";
    li.dataset.state = o.state;
    li.dataset.clientMsgId = o.clientMsgId;
    const status =
      o.state === "failed"
        ? h(
            "p",
            { class: "status failed" },
            `Not sent${o.error ? `: ${o.error}` : ""} `,
            h("button", { class: "retry", text: "Retry", attrs: { type: "button" }, on: { click: () => this.ctl.retry(o.clientMsgId) } }),
          )
        : h("p", { class: "status", text: o.state === "pending" ? "Sending…" : "Sent" });
    fill(
      li,
      h("p", { class: "meta" }, h("span", { class: "sender", text: "You" }), " ", h("time", { text: clock(o.createdAt) })),
      h("p", { class: "text", text: o.text }),
      status,
    );
  }
}

/** True when the element already shows this content (its signature); otherwise records the new one. Saves redrawing every message on every event. */
function unchanged(li: HTMLLIElement, signature: string): boolean {
  if (li.dataset.sig === signature) return true;
  li.dataset.sig = signature;
  return false;
}
