import type { Message } from "@parley/contracts/parley/chat/v1/chat";
import type { ChatController } from "./controller.js";
import { errorText } from "./controller.js";
import { h } from "./dom.js";
import { PALETTE, type ReactionsView } from "./reactions-view.js";

/** What is open on a message: its menu, a deletion waiting for a yes, or the edit box. */
type Mode = "menu" | "confirm-everyone" | "confirm-me" | "edit";

interface Opened {
  conversationId: bigint;
  messageId: bigint;
  mode: Mode;
  /** Set while the call is under way ("Saving…", "Deleting…"): the buttons wait. */
  busy: string | undefined;
  /** The last call's refusal, in words (the edit window passed, say), shown until the next step. */
  error: string | undefined;
}

/** What the message list places for one message: the menu button in its header line, and what is open below (the edit box stands in for the text). */
export interface MessageMenuParts {
  toggle: HTMLButtonElement;
  panel: HTMLElement | null;
  replacesText: boolean;
}

/**
 * The actions on a message, one message at a time: a "Message actions"
 * button (a disclosure: it opens and closes, by click or keyboard, never by
 * hover) shows Reply and a palette of reactions, Edit message and Delete for
 * everyone on this user's own messages and Delete for me on any. Deleting asks first, inline ("Yes,
 * delete" / "No"); editing swaps the text for a box where Enter saves,
 * Shift+Enter makes a new line and Escape cancels. A refusal stays on the
 * message in words (role="alert") until the next step. The message list
 * redraws a message when its `signature` changes, so the edit box (kept here,
 * one for the app) keeps what is typed in it across redraws.
 */
export class MessageMenu {
  private opened: Opened | undefined;
  private readonly editor = h("textarea", { class: "msg-editor-input", attrs: { rows: 2, maxlength: 100_000, "aria-label": "Edit message text" } });
  /** What to focus once the list has redrawn: set by the step that changed what is shown. */
  private focusWanted: { messageId: bigint; target: "toggle" | "editor" | "first" | "no" } | undefined;
  private focusNow: HTMLElement | undefined;

  constructor(
    private readonly ctl: ChatController,
    /** Focus somewhere sensible when the focused message goes away (deleted for me). */
    private readonly focusList: () => void,
    private readonly reactions: ReactionsView,
    /** Makes the message the composer's reply target (and focuses the composer). */
    private readonly onReply: (m: Message) => void,
  ) {
    this.editor.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        void this.save();
      } else if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        this.close();
      }
    });
  }

  /** Changes whenever what the message's actions show changes. */
  signature(m: Message): string {
    const o = this.opened;
    return o?.messageId === m.messageId ? `${o.mode}|${o.busy}|${o.error}` : "";
  }

  /** Closes whatever is open (another conversation was opened, say). */
  reset(): void {
    this.opened = undefined;
  }

  parts(m: Message, mine: boolean): MessageMenuParts {
    let o = this.opened?.messageId === m.messageId ? this.opened : undefined;
    // Deleted for everyone meanwhile (in another tab, say): nothing left to edit or delete for everyone.
    if (o && m.deleted && o.mode !== "confirm-me" && o.mode !== "menu") o = this.open(m, "menu", "This message was deleted meanwhile.");
    const panelId = `msg-actions-${m.messageId}`;
    const toggle = h("button", {
      class: "msg-toggle",
      text: "⋯",
      attrs: { type: "button", "aria-label": "Message actions", "aria-expanded": o !== undefined ? "true" : "false", "aria-controls": o ? panelId : undefined },
      on: {
        click: () => (this.opened?.messageId === m.messageId ? this.close() : this.open(m, "menu")),
        keydown: (e) => {
          if (e.key === "Escape" && this.opened?.messageId === m.messageId) this.close();
        },
      },
    });
    this.wantFocus(m, "toggle", toggle);
    if (!o) return { toggle, panel: null, replacesText: false };
    const panel = o.mode === "edit" ? this.editBox(m, o) : h("div", { class: "msg-actions", id: panelId }, ...this.buttons(m, o, mine));
    panel.id = panelId;
    panel.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      this.close();
    });
    if (o.error) panel.append(h("p", { class: "action-error", text: o.error, attrs: { role: "alert" } }));
    return { toggle, panel, replacesText: o.mode === "edit" };
  }

  /** Focuses what the last step asked for, once the list has drawn it. */
  afterRender(): void {
    const el = this.focusNow;
    this.focusNow = undefined;
    if (el?.isConnected) el.focus();
  }

  private buttons(m: Message, o: Opened, mine: boolean): HTMLElement[] {
    const button = (text: string, cls: string, onClick: () => void) =>
      h("button", {
        class: cls,
        text: o.busy && cls.includes("danger") ? o.busy : text,
        attrs: { type: "button", disabled: o.busy !== undefined },
        on: { click: onClick },
      });
    if (o.mode === "confirm-everyone" || o.mode === "confirm-me") {
      const forEveryone = o.mode === "confirm-everyone";
      const question = h("span", { class: "question", text: forEveryone ? "Delete this message for everyone?" : "Delete this message for you?" });
      const yes = button("Yes, delete", "danger", () => void this.remove(m, forEveryone));
      const no = button("No", "secondary", () => this.close());
      this.wantFocus(m, "no", no);
      return [h("span", { attrs: { role: "group", "aria-label": "Confirm deletion" } }, question, " ", yes, " ", no)];
    }
    const items: HTMLElement[] = [];
    const writable = !m.deleted && !this.ctl.state.conversations.get(m.conversationId)?.left;
    if (writable) {
      items.push(button("Reply", "secondary", () => this.reply(m)));
      items.push(this.palette(m, o));
    }
    if (mine && !m.deleted) {
      items.push(button("Edit message", "secondary", () => this.startEdit(m)));
      items.push(button("Delete for everyone", "secondary", () => this.open(m, "confirm-everyone")));
    }
    items.push(button("Delete for me", "secondary", () => this.open(m, "confirm-me")));
    if (items[0]) this.wantFocus(m, "first", items[0]);
    return items;
  }

  /** One toggle per emoji of the palette (pressed: this user's reaction is there; choosing it again removes it). */
  private palette(m: Message, o: Opened): HTMLElement {
    const emoji = PALETTE.map((e) => {
      const mine = m.reactions.some((r) => r.emoji === e && r.mine);
      return h("button", {
        class: "secondary react",
        text: e,
        attrs: { type: "button", "aria-label": `React with ${e}`, "aria-pressed": mine ? "true" : "false", disabled: o.busy !== undefined },
        on: {
          click: () => {
            this.close();
            void this.reactions.toggle(m, e, false);
          },
        },
      });
    });
    return h("span", { class: "palette", attrs: { role: "group", "aria-label": "React" } }, ...emoji);
  }

  private reply(m: Message): void {
    // Closed without a focus wish: the composer takes the focus.
    this.opened = undefined;
    this.ctl.state.changed();
    this.onReply(m);
  }

  private editBox(m: Message, o: Opened): HTMLElement {
    // The same textarea every redraw: what is typed survives; focus is put back if it had it.
    if (document.activeElement === this.editor) this.focusNow = this.editor;
    this.wantFocus(m, "editor", this.editor);
    this.editor.readOnly = o.busy !== undefined;
    const save = h("button", { text: o.busy ?? "Save", attrs: { type: "submit", disabled: o.busy !== undefined } });
    const cancel = h("button", {
      class: "secondary",
      text: "Cancel",
      attrs: { type: "button", disabled: o.busy !== undefined },
      on: { click: () => this.close() },
    });
    return h(
      "form",
      {
        class: "msg-editor",
        attrs: { "aria-label": "Edit message" },
        on: {
          submit: (e) => {
            e.preventDefault();
            void this.save();
          },
        },
      },
      this.editor,
      h("p", { class: "hint", text: "Enter saves, Shift+Enter adds a line, Escape cancels." }),
      h("p", { class: "msg-editor-buttons" }, save, " ", cancel),
    );
  }

  private open(m: Message, mode: Mode, error?: string): Opened {
    const target = mode === "menu" ? "first" : mode === "edit" ? "editor" : "no";
    this.opened = { conversationId: m.conversationId, messageId: m.messageId, mode, busy: undefined, error };
    this.focusWanted = { messageId: m.messageId, target };
    this.ctl.state.changed();
    return this.opened;
  }

  private close(): void {
    const o = this.opened;
    this.opened = undefined;
    if (o) this.focusWanted = { messageId: o.messageId, target: "toggle" };
    this.ctl.state.changed();
  }

  private startEdit(m: Message): void {
    this.editor.value = m.text;
    this.open(m, "edit");
    this.editor.setSelectionRange(m.text.length, m.text.length);
  }

  private async save(): Promise<void> {
    const o = this.opened;
    if (o?.mode !== "edit" || o.busy) return;
    const text = this.editor.value;
    const held = this.ctl.state.conversations.get(o.conversationId)?.messages.get(o.messageId);
    if (text.trim() === "") return this.fail(o, "A message cannot be empty: to remove it, delete it.", "editor");
    if (text === held?.text) return this.close(); // nothing changed: no call
    o.busy = "Saving…";
    o.error = undefined;
    this.ctl.state.changed();
    try {
      await this.ctl.actions.edit(o.conversationId, o.messageId, text);
      if (this.opened === o) this.close();
    } catch (err) {
      this.fail(o, `Not saved: ${errorText(err)}`, "editor");
    }
  }

  private async remove(m: Message, forEveryone: boolean): Promise<void> {
    const o = this.opened;
    if (!o || o.messageId !== m.messageId || o.busy) return;
    o.busy = "Deleting…";
    o.error = undefined;
    this.ctl.state.changed();
    try {
      await this.ctl.actions.delete(m.conversationId, m.messageId, forEveryone);
      if (this.opened === o) this.close();
      if (!forEveryone) this.focusList(); // the message is gone, and its buttons with it
      this.ctl.onAnnounce(forEveryone ? "Message deleted for everyone" : "Message deleted for you");
    } catch (err) {
      o.mode = "menu";
      this.fail(o, `Not deleted: ${errorText(err)}`, "first");
    }
  }

  /** Shows a refusal on the message (it stays open, so the user sees why) and puts the focus back into it. */
  private fail(o: Opened, error: string, target: "editor" | "first"): void {
    if (this.opened !== o) return;
    o.busy = undefined;
    o.error = error;
    this.focusWanted = { messageId: o.messageId, target };
    this.ctl.state.changed();
  }

  private wantFocus(m: Message, target: "toggle" | "editor" | "first" | "no", el: HTMLElement): void {
    if (this.focusWanted?.messageId !== m.messageId || this.focusWanted.target !== target) return;
    this.focusWanted = undefined;
    this.focusNow = el;
  }
}
