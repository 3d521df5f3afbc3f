import { blockedList } from "./block-panel.js";
import { ChatView } from "./chat-view.js";
import type { ChatController } from "./controller.js";
import { ConversationList } from "./conversation-list.js";
import { byId, fill, h } from "./dom.js";
import { newChatForms } from "./new-chat.js";
import { SearchPanel } from "./search-panel.js";

/** How often the screen is redrawn with nothing new: typing indicators fade, "last seen" times age. */
const TICK_MS = 2_000;

/**
 * The signed-in screen: the sidebar (who you are, log out, message search,
 * new chats, blocked users, the conversation list) and the open conversation. Redraws once per animation
 * frame after state changes; tells the connection's state in the status bar
 * and reads new messages out through the page's aria-live announcer.
 */
export function showChat(root: HTMLElement, ctl: ChatController, onLogOut: () => void): () => void {
  const list = new ConversationList(ctl);
  const chat = new ChatView(ctl);
  const search = new SearchPanel(ctl, (conversationId, messageId) => void chat.showMessage(conversationId, messageId));
  const blocked = blockedList(ctl);
  const status = byId("status");
  const announcer = byId("announcer");
  const logOut = h("button", { id: "log-out", class: "secondary", text: "Log out", attrs: { type: "button" } });
  logOut.addEventListener("click", onLogOut);
  const me = h("p", { id: "me", class: "me" }, h("span", { text: "Signed in as " }), h("strong", { text: ctl.tokens.session.username }));
  const sidebar = h(
    "nav",
    { class: "sidebar", attrs: { "aria-label": "Conversations" } },
    h("header", { class: "sidebar-header" }, h("h1", { text: "Parley" }), me, logOut),
    search.element,
    newChatForms(ctl, () => chat.focusComposer()),
    blocked.element,
    h("h2", { class: "visually-hidden", text: "Conversations" }),
    list.element,
  );
  fill(root, h("div", { class: "app" }, sidebar, chat.element));
  root.setAttribute("aria-busy", "false");

  let lastOpen: bigint | undefined;
  const render = () => {
    list.render();
    chat.render();
    blocked.render();
    const { connection } = ctl.state;
    status.hidden = connection.state === "online";
    status.textContent = connection.state === "online" ? "" : connection.detail;
    status.dataset.state = connection.state;
    document.title = unreadTotal(ctl) > 0 ? `(${unreadTotal(ctl)}) Parley` : "Parley";
    if (ctl.state.openId !== lastOpen) {
      lastOpen = ctl.state.openId;
      if (lastOpen !== undefined && !chat.input.disabled) chat.focusComposer();
    }
  };
  const unsubscribe = ctl.state.onChange(render);
  ctl.onAnnounce = (text) => {
    // A fresh node per message: screen readers announce additions; old ones are trimmed.
    announcer.append(h("p", { text: text.length > 200 ? `${text.slice(0, 199)}…` : text }));
    while (announcer.childElementCount > 5) announcer.firstElementChild?.remove();
  };
  const tick = setInterval(() => ctl.state.changed(), TICK_MS);
  const onVisible = () => {
    if (document.visibilityState === "visible") void ctl.markRead();
  };
  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener("focus", onVisible);
  render();
  return () => {
    unsubscribe();
    clearInterval(tick);
    document.removeEventListener("visibilitychange", onVisible);
    window.removeEventListener("focus", onVisible);
    status.hidden = true;
    announcer.replaceChildren();
  };
}

function unreadTotal(ctl: ChatController): number {
  let total = 0;
  for (const c of ctl.state.conversations.values()) total += c.unread;
  return total;
}
