import type { SearchHit, TextRange } from "@parley/contracts/parley/chat/v1/chat";
import { type ChatController, errorText } from "./controller.js";
import { fill, h } from "./dom.js";
import { clock, millis } from "./format.js";

/** Hits per page (the server allows 1 to 50). */
const PAGE = 20;

/**
 * Message search in the sidebar: a search form, then the hits, newest
 * first, each a button naming the conversation and sender with the
 * server's snippet, its matching words marked (<mark>, built as nodes: the
 * snippet is user text). "Load more results" pages on; choosing a hit opens
 * its conversation at that message (`onOpen`). The count is read out; a
 * refusal (a query with no word, say) is shown in words.
 */
export class SearchPanel {
  readonly element: HTMLElement;
  private readonly input = h("input", {
    id: "search-input",
    attrs: { type: "search", name: "q", maxlength: 200, autocomplete: "off", spellcheck: "false", placeholder: "Search messages" },
  });
  private readonly results = h("ol", { id: "search-results", class: "search-results", attrs: { "aria-label": "Search results" } });
  private readonly status = h("p", { id: "search-status", class: "hint" });
  private readonly error = h("p", { class: "error", attrs: { role: "alert" } });
  private readonly more = h("button", { id: "search-more", class: "secondary", text: "Load more results", attrs: { type: "button" } });
  private readonly closeButton = h("button", { class: "secondary", text: "Close search", attrs: { type: "button" } });
  private readonly area = h("div", { class: "search-area" }, this.status, this.error, this.results, this.more, this.closeButton);
  private query = "";
  private next = 0n;
  private found = 0;
  /** Bumped by every new search: the answers of an older one are dropped. */
  private generation = 0;

  constructor(
    private readonly ctl: ChatController,
    private readonly onOpen: (conversationId: bigint, messageId: bigint) => void,
  ) {
    const form = h(
      "form",
      { class: "search", attrs: { role: "search", "aria-label": "Message search" }, on: { submit: (e) => this.submit(e) } },
      h("label", { text: "Search messages", attrs: { for: "search-input", class: "visually-hidden" } }),
      this.input,
      h("button", { text: "Search", attrs: { type: "submit" } }),
    );
    this.more.addEventListener("click", () => void this.page());
    this.closeButton.addEventListener("click", () => this.close());
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !this.area.hidden) {
        e.preventDefault();
        this.close();
      }
    });
    this.area.hidden = true;
    this.element = h("div", { class: "search-panel" }, form, this.area);
  }

  private submit(e: Event): void {
    e.preventDefault();
    const query = this.input.value.trim();
    if (query === "") return;
    this.query = query;
    this.next = 0n;
    this.found = 0;
    this.generation++;
    this.results.replaceChildren();
    this.area.hidden = false;
    void this.page();
  }

  private async page(): Promise<void> {
    const generation = this.generation;
    this.error.textContent = "";
    this.more.hidden = true;
    this.status.textContent = "Searching…";
    try {
      const answer = await this.ctl.client.searchMessages(this.query, { limit: PAGE, ...(this.next > 0n ? { beforeMessageId: this.next } : {}) });
      if (generation !== this.generation) return;
      this.results.append(...answer.hits.map((hit) => h("li", {}, this.hit(hit))));
      this.found += answer.hits.length;
      this.next = answer.nextBeforeMessageId;
      this.more.hidden = this.next === 0n;
      const words =
        this.found === 0
          ? `No messages found for “${this.query}”`
          : `${this.found}${this.next === 0n ? "" : "+"} ${this.found === 1 ? "message" : "messages"} found`;
      this.status.textContent = words;
      this.ctl.onAnnounce(words);
    } catch (err) {
      if (generation !== this.generation) return;
      this.status.textContent = "";
      this.error.textContent = errorText(err);
      this.more.hidden = this.next === 0n;
    }
  }

  private hit(hit: SearchHit): HTMLButtonElement {
    const m = hit.message!;
    const c = this.ctl.state.conversations.get(m.conversationId);
    const where = c ? this.ctl.titleOf(c) : "A conversation";
    const sender = m.senderId === this.ctl.me ? "You" : this.ctl.profiles.nameOf(m.senderId);
    return h(
      "button",
      {
        class: "search-hit",
        attrs: { type: "button", "data-message-id": String(m.messageId) },
        on: { click: () => this.onOpen(m.conversationId, m.messageId) },
      },
      h("span", { class: "row" }, h("span", { class: "title", text: where }), h("time", { text: clock(millis(m.createdAt)) })),
      h("span", { class: "hit-sender", text: `${sender}:` }),
      " ",
      h("span", { class: "snippet" }, ...marked(hit.snippet, hit.highlights)),
    );
  }

  private close(): void {
    this.generation++;
    this.area.hidden = true;
    this.results.replaceChildren();
    fill(this.status);
    this.error.textContent = "";
    this.input.value = "";
    this.input.focus();
  }
}

/** The snippet with its highlight ranges (in code points, not UTF-16 units) as <mark> elements, the rest as text. */
export function marked(snippet: string, highlights: TextRange[]): (Node | string)[] {
  const chars = Array.from(snippet);
  const parts: (Node | string)[] = [];
  let at = 0;
  for (const range of [...highlights].sort((a, b) => a.start - b.start)) {
    if (range.start < at || range.length === 0) continue; // overlapping or empty: the text is shown once
    parts.push(chars.slice(at, range.start).join(""));
    parts.push(h("mark", { text: chars.slice(range.start, range.start + range.length).join("") }));
    at = range.start + range.length;
  }
  parts.push(chars.slice(at).join(""));
  return parts.filter((p) => p !== "");
}
