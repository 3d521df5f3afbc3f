import { type ChatController, errorText } from "./controller.js";
import { field, h } from "./dom.js";

/**
 * The sidebar's two forms: a chat with one user (by username), and a new
 * group (a name and the usernames of its first members). Errors are read out
 * (role=alert); on success the new conversation opens with the message box
 * focused.
 */
export function newChatForms(ctl: ChatController, focusComposer: () => void): HTMLElement {
  const peer = field("new-chat-username", "Chat with (username)", { autocomplete: "off", autocapitalize: "none", spellcheck: "false", required: true });
  const chatError = h("p", { class: "error", attrs: { role: "alert" } });
  const chatForm = h(
    "form",
    {
      class: "new-chat",
      attrs: { "aria-label": "Start a chat" },
      on: {
        submit: (e) => {
          e.preventDefault();
          const username = peer.input.value.trim();
          if (!username) return;
          chatError.textContent = "";
          ctl.openDirect(username).then(
            () => {
              peer.input.value = "";
              focusComposer();
            },
            (err: unknown) => (chatError.textContent = errorText(err)),
          );
        },
      },
    },
    peer.wrapper,
    h("button", { id: "new-chat-open", text: "Start chat", attrs: { type: "submit" } }),
    chatError,
  );

  const name = field("new-group-name", "Group name", { autocomplete: "off", required: true, maxlength: 100 });
  const members = field("new-group-members", "Members (usernames, comma-separated)", { autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  const groupError = h("p", { class: "error", attrs: { role: "alert" } });
  const groupForm = h(
    "form",
    {
      class: "new-group",
      attrs: { "aria-label": "Create a group" },
      on: {
        submit: (e) => {
          e.preventDefault();
          const groupName = name.input.value.trim();
          if (!groupName) return;
          const usernames = members.input.value
            .split(/[,\s]+/)
            .map((u) => u.trim())
            .filter((u) => u !== "");
          groupError.textContent = "";
          ctl.createGroup(groupName, usernames).then(
            () => {
              name.input.value = "";
              members.input.value = "";
              focusComposer();
            },
            (err: unknown) => (groupError.textContent = errorText(err)),
          );
        },
      },
    },
    name.wrapper,
    members.wrapper,
    h("button", { id: "new-group-create", text: "Create group", attrs: { type: "submit" } }),
    groupError,
  );
  return h("details", { class: "start", attrs: { open: true } }, h("summary", { text: "New chat or group" }), chatForm, groupForm);
}
