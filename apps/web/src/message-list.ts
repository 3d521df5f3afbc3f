import type { Message } from "@parley/contracts/parley/chat/v1/chat";
import type { ChatController } from "./controller.js";
import { fill, h } from "./dom.js";
import { clock, millis, systemText, TOMBSTONE_TEXT } from "./format.js";
import { mentionedNames, textWithMentions } from "./mention-text.js";
import { MessageMenu } from "./message-menu.js";
import { quoteOf, quoteSignature, quoteView } from "./quote-view.js";
import { ReactionsView } from "./reactions-view.js";
import type { ConversationState, Outgoing } from "./state.js";

/** How close to the top a scroll must come to load older messages. */
const LOAD_OLDER_WITHIN_PX = 80;
/** How many older pages a jump to a quoted or found message loads at most, looking for it. */
const JUMP_PAGES = 5;

/**
 * The open conversation's messages, oldest first: stored messages, then this
 * device's sends still pending or failed (with a Retry button). Elements are
 * kept by key across redraws (focus on a Retry button survives), the view
 * stays at the bottom when it was there and keeps its place when older
 * messages come in above. Scrolling to the top loads older messages.
 * Replies show their quote, mentions are highlighted, reactions sit under
 * the text.
 */
export class MessageList {
  readonly loadOlder = h("button", { id: "load-older", class: "secondary", text: "Load older messages", attrs: { type: "button" } });
  readonly list = h("ol", { id: "messages", class: "messages", attrs: { "aria-label": "Messages" } });
  readonly element = h("div", { class: "scroller", attrs: { tabindex: 0, "aria-label": "Message history" } }, this.loadOlder, this.list);
  private readonly items = new Map<string, HTMLLIElement>();
  private readonly menu: MessageMenu;
  private readonly reactions: ReactionsView;
  private shownId: bigint | undefined;
  /** A message to scroll to and focus once it is drawn (a quote or a search result was clicked). */
  private jumpWanted: bigint | undefined;

  constructor(
    private readonly ctl: ChatController,
    onReply: (m: Message) => void,
  ) {
    this.reactions = new ReactionsView(ctl);
    this.menu = new MessageMenu(ctl, () => this.element.focus(), this.reactions, onReply);
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
      this.reactions.reset();
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
      else this.outgoing(li, m, c);
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
    this.reactions.afterRender();
    this.showWanted();
  }

  /**
   * Scrolls to a message of the open conversation and focuses it, loading a
   * few older pages when it is not loaded yet; says so when it is further
   * back than that (or deleted for this user).
   */
  async jumpTo(messageId: bigint): Promise<void> {
    const c = this.ctl.state.open;
    if (!c) return;
    for (let page = 0; !c.messages.has(messageId) && c.hasOlder && !c.left && page < JUMP_PAGES; page++) await this.ctl.loadOlder(c);
    if (this.ctl.state.open !== c) return;
    if (!c.messages.has(messageId)) {
      this.ctl.onAnnounce("That message is not loaded: it is further back, or no longer there");
      return;
    }
    this.jumpWanted = messageId;
    this.ctl.state.changed();
  }

  private showWanted(): void {
    const li = this.jumpWanted === undefined ? undefined : this.items.get(`m${this.jumpWanted}`);
    if (!li) return;
    this.jumpWanted = undefined;
    li.tabIndex = -1;
    li.scrollIntoView({ block: "center" });
    li.focus({ preventScroll: true });
    // Restarts the highlight's animation when the same message is shown twice in a row.
    li.classList.remove("flash");
    void li.offsetWidth;
    li.classList.add("flash");
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
    const quote = m.replyTo ? quoteOf(this.ctl, c, m.replyTo) : undefined;
    m.mentionedUserIds.forEach(nameOf); // loads unknown profiles: their @names are highlighted once known
    const names = mentionedNames(m, (id) => this.ctl.profiles.usernameOf(id));
    const signature = [sender, words, m.deleted, edited, m.text, this.menu.signature(m), this.reactions.signature(m), quoteSignature(quote), [...names.keys()]];
    if (unchanged(li, signature.join("|"))) return;
    li.className = `msg ${mine ? "mine" : "theirs"}${m.deleted ? " deleted" : ""}`;
    li.dataset.state = "sent";
    const actions = this.menu.parts(m, mine);
    const mark = edited !== undefined && !m.deleted ? h("span", { class: "edited", text: "(edited)", attrs: { title: `Edited ${clock(edited)}` } }) : null;
    fill(
      li,
      h("p", { class: "meta" }, h("span", { class: "sender", text: sender }), " ", h("time", { text: clock(millis(m.createdAt)) }), " ", mark, actions.toggle),
      quote && !m.deleted ? quoteView(quote, (id) => void this.jumpTo(id)) : null,
      actions.replacesText
        ? null
        : m.deleted
          ? h("p", { class: "text tombstone", text: TOMBSTONE_TEXT })
          : h("p", { class: "text" }, ...textWithMentions(m.text, names, this.ctl.me)),
      ...this.reactions.parts(m),
      actions.panel,
      words === undefined ? null : h("p", { class: "status", text: words }),
    );
  }

  private outgoing(li: HTMLLIElement, o: Outgoing, c: ConversationState): void {
    // A pending reply quotes the loaded message it answers (quoteOf reads the loaded copy).
    const quoted = o.replyToMessageId === 0n ? undefined : c.messages.get(o.replyToMessageId);
    const quote = quoted ? quoteOf(this.ctl, c, { ...quoted, textPreview: quoted.text, unavailable: false }) : undefined;
    if (unchanged(li, `${o.state}|${o.error}|${quoteSignature(quote)}`)) return;
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
      quote ? quoteView(quote, (id) => void this.jumpTo(id)) : null,
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
