import { BlockButton } from "./block-panel.js";
import type { ChatController } from "./controller.js";
import { errorText } from "./controller.js";
import { fill, h } from "./dom.js";
import { GroupPanel } from "./group-panel.js";
import { MessageList } from "./message-list.js";
import { presenceDot, presenceText } from "./presence-view.js";
import { ReplyBar } from "./reply-bar.js";
import type { ConversationState } from "./state.js";

/**
 * The open conversation: a header (name, presence or member count, the
 * friend and block buttons of a direct chat), the messages, who is typing,
 * the message a reply answers, and the message box: Enter sends,
 * Shift+Enter makes a new line, Escape cancels a reply. Groups get their
 * member panel beside it.
 */
export class ChatView {
  readonly element: HTMLElement;
  readonly input = h("textarea", { id: "composer-input", attrs: { name: "message", rows: 2, maxlength: 100_000, autocomplete: "off" } });
  private readonly title = h("h2", { id: "chat-title" });
  private readonly subtitle = h("p", { id: "chat-subtitle", class: "subtitle" });
  private readonly friendSlot = h("span", { class: "friend-controls" });
  private readonly blockButton: BlockButton;
  private readonly headerActions = h("div", { class: "header-actions" }, this.friendSlot);
  private readonly typingLine = h("p", { id: "typing", class: "typing" });
  private readonly notice = h("p", { id: "chat-notice", class: "notice" });
  private readonly messages: MessageList;
  private readonly panel: GroupPanel;
  private readonly replyBar: ReplyBar;
  private readonly composer: HTMLFormElement;
  private readonly empty = h("p", { class: "placeholder", text: "Pick a conversation, or start one." });
  private readonly body: HTMLElement;

  constructor(private readonly ctl: ChatController) {
    this.replyBar = new ReplyBar(ctl, () => this.focusComposer());
    this.messages = new MessageList(ctl, (m) => this.replyBar.set(m));
    this.panel = new GroupPanel(ctl);
    this.blockButton = new BlockButton(ctl);
    this.headerActions.append(this.blockButton.element);
    const send = h("button", { id: "composer-send", text: "Send", attrs: { type: "submit" } });
    this.composer = h(
      "form",
      { class: "composer", attrs: { "aria-label": "Send a message" }, on: { submit: (e) => this.onSubmit(e) } },
      h("label", { text: "Message", attrs: { for: "composer-input", class: "visually-hidden" } }),
      this.input,
      send,
    );
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      } else if (e.key === "Escape" && this.replyBar.clear()) {
        e.preventDefault();
      }
    });
    this.input.addEventListener("input", () => {
      const open = ctl.state.openId;
      if (open !== undefined) ctl.typing(open, this.input.value.trim() !== "");
    });
    this.body = h(
      "div",
      { class: "chat-body" },
      h("header", { class: "chat-header" }, h("div", {}, this.title, this.subtitle), this.headerActions),
      this.messages.element,
      this.typingLine,
      this.notice,
      this.replyBar.element,
      this.composer,
    );
    this.element = h("section", { class: "chat", attrs: { "aria-labelledby": "chat-title" } }, this.empty, this.body, this.panel.element);
  }

  private onSubmit(e: Event): void {
    e.preventDefault();
    this.submit();
  }

  private submit(): void {
    const c = this.ctl.state.open;
    const text = this.input.value;
    if (!c || text.trim() === "") return;
    this.ctl.send(c.id, text, this.replyBar.messageId);
    this.replyBar.clear();
    this.input.value = "";
    this.input.focus();
  }

  focusComposer(): void {
    this.input.focus();
  }

  /** Opens a conversation at one of its messages (a search result). */
  async showMessage(conversationId: bigint, messageId: bigint): Promise<void> {
    await this.ctl.open(conversationId);
    await this.messages.jumpTo(messageId);
  }

  render(): void {
    const c = this.ctl.state.open;
    this.empty.hidden = c !== undefined;
    this.body.hidden = c === undefined;
    if (!c) {
      this.panel.render(undefined);
      this.replyBar.render(undefined);
      return;
    }
    this.title.textContent = this.ctl.titleOf(c);
    this.renderHeader(c);
    this.messages.render(c);
    this.renderTyping(c);
    this.notice.textContent = this.noticeFor(c);
    this.input.disabled = c.left;
    this.replyBar.render(c);
    this.panel.render(c);
  }

  private noticeFor(c: ConversationState): string {
    if (c.left) return "You are no longer in this group: you can read what you received, but not send.";
    const peer = this.ctl.state.peerOf(c);
    if (peer !== undefined && this.ctl.blocking.has(peer)) {
      return `You blocked ${this.ctl.profiles.nameOf(peer)}: neither of you can send messages here until you unblock them.`;
    }
    return "";
  }

  private renderHeader(c: ConversationState): void {
    const { state } = this.ctl;
    const peer = state.peerOf(c);
    this.blockButton.render(peer);
    if (peer === undefined) {
      const online = c.conversation.members.filter((m) => state.presence.get(m.userId)?.online).length;
      this.subtitle.textContent = `${c.conversation.members.length} members, ${online} online`;
      fill(this.friendSlot);
      return;
    }
    const presence = state.presence.get(peer);
    fill(this.subtitle, presenceDot(presence), ` ${presenceText(presence)}`);
    const friendship = state.friends.get(peer) ?? "FRIENDSHIP_STATE_NONE";
    // A block suspends friendships (requests between the two are refused): nothing to offer.
    if (this.ctl.blocking.has(peer)) {
      fill(this.friendSlot);
      return;
    }
    if (friendship === "FRIENDSHIP_STATE_FRIENDS" || friendship === "FRIENDSHIP_STATE_REQUEST_SENT") {
      fill(this.friendSlot, h("span", { class: "badge", text: friendship === "FRIENDSHIP_STATE_FRIENDS" ? "Friends" : "Friend request sent" }));
      return;
    }
    const label = friendship === "FRIENDSHIP_STATE_REQUEST_RECEIVED" ? "Accept friend request" : "Add friend";
    const button = h("button", { class: "secondary", text: label, attrs: { type: "button", title: "Friends see each other's last-seen time" } });
    button.addEventListener("click", () => {
      button.disabled = true;
      this.ctl.befriend(peer).catch((err: unknown) => {
        button.disabled = false;
        this.notice.textContent = errorText(err);
      });
    });
    if (this.friendSlot.firstElementChild?.textContent !== label) fill(this.friendSlot, button);
  }

  private renderTyping(c: ConversationState): void {
    const now = Date.now();
    const typing = [...c.typing].filter(([, until]) => until > now).map(([userId]) => this.ctl.profiles.nameOf(userId));
    this.typingLine.textContent = typing.length === 0 ? "" : `${typing.join(", ")} ${typing.length === 1 ? "is" : "are"} typing…`;
  }
}
