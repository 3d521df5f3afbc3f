import { type Member, MemberRole } from "@parley/contracts/parley/chat/v1/chat";
import { type ChatController, errorText } from "./controller.js";
import { field, fill, h } from "./dom.js";
import { presenceDot, presenceText } from "./presence-view.js";
import type { ConversationState } from "./state.js";

const ROLE_WORDS: Record<number, string> = { [MemberRole.OWNER]: "owner", [MemberRole.ADMIN]: "admin", [MemberRole.MEMBER]: "member" };

/**
 * A group's members and what this user may do to them (docs/protocol.md,
 * Groups): admins add members and remove plain members; the owner also
 * removes admins, changes roles and hands ownership over; everyone may
 * leave (the owner only once someone else owns the group). The server
 * decides; a refusal is shown as its message.
 */
export class GroupPanel {
  readonly element = h("aside", { id: "group-panel", class: "group-panel", attrs: { "aria-labelledby": "group-panel-title" } });
  private readonly error = h("p", { id: "group-error", class: "error", attrs: { role: "alert" } });
  private readonly add = field("add-member-username", "Add a member (username)", { autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  private readonly addForm: HTMLFormElement;
  private readonly list = h("ul", { id: "members", class: "members" });
  private readonly leave = h("button", { id: "leave-group", class: "danger", text: "Leave group", attrs: { type: "button" } });
  private shown: ConversationState | undefined;
  private signature = "";

  constructor(private readonly ctl: ChatController) {
    this.addForm = h(
      "form",
      { class: "add-member", attrs: { "aria-label": "Add a member" }, on: { submit: (e) => this.addMember(e) } },
      this.add.wrapper,
      h("button", { id: "add-member", text: "Add", attrs: { type: "submit" } }),
    );
    this.leave.addEventListener("click", () => {
      const c = this.shown;
      if (c) this.act(() => ctl.removeMember(c.id, ctl.me));
    });
    fill(this.element, h("h2", { id: "group-panel-title", text: "Members" }), this.list, this.addForm, this.leave, this.error);
  }

  private addMember(e: Event): void {
    e.preventDefault();
    const c = this.shown;
    const username = this.add.input.value.trim();
    if (!c || !username) return;
    this.act(async () => {
      await this.ctl.addMember(c.id, username);
      this.add.input.value = "";
    });
  }

  private act(action: () => Promise<void>): void {
    this.error.textContent = "";
    action().catch((err: unknown) => (this.error.textContent = errorText(err)));
  }

  render(c: ConversationState | undefined): void {
    const group = c !== undefined && this.ctl.state.peerOf(c) === undefined;
    this.element.hidden = !group;
    if (!group) {
      this.shown = undefined;
      return;
    }
    if (this.shown?.id !== c.id) this.error.textContent = "";
    this.shown = c;
    const { state } = this.ctl;
    const me = c.conversation.members.find((m) => m.userId === state.me);
    const myRole = me?.role ?? MemberRole.UNSPECIFIED;
    this.addForm.hidden = c.left || myRole < MemberRole.ADMIN;
    this.leave.hidden = c.left;
    const members = [...c.conversation.members].sort((a, b) => b.role - a.role);
    // Redraw only on a change: a redraw while a role menu is open would close it.
    const signature = JSON.stringify([
      String(c.id),
      c.left,
      myRole,
      members.map((m) => [String(m.userId), m.role, this.ctl.profiles.nameOf(m.userId), presenceText(state.presence.get(m.userId))]),
    ]);
    if (signature === this.signature && this.list.isConnected) return;
    this.signature = signature;
    fill(this.list, ...members.map((m) => this.member(c, m, myRole)));
  }

  private member(c: ConversationState, m: Member, myRole: MemberRole): HTMLLIElement {
    const { ctl } = this;
    const name = m.userId === ctl.me ? `${ctl.profiles.nameOf(m.userId)} (you)` : ctl.profiles.nameOf(m.userId);
    const li = h(
      "li",
      { attrs: { "data-user-id": String(m.userId) } },
      presenceDot(ctl.state.presence.get(m.userId)),
      h("span", { class: "name", text: name }),
      h("span", { class: "role", text: ROLE_WORDS[m.role] ?? "member" }),
    );
    if (c.left || m.userId === ctl.me) return li;
    const mayRemove = myRole === MemberRole.OWNER ? m.role !== MemberRole.OWNER : myRole === MemberRole.ADMIN && m.role === MemberRole.MEMBER;
    if (myRole === MemberRole.OWNER) {
      const id = `role-${c.id}-${m.userId}`;
      const select = h(
        "select",
        { id, attrs: { "aria-label": `Role of ${ctl.profiles.nameOf(m.userId)}` } },
        ...[MemberRole.MEMBER, MemberRole.ADMIN, MemberRole.OWNER].map((role) =>
          h("option", { text: role === MemberRole.OWNER ? "owner (hand over)" : ROLE_WORDS[role]!, attrs: { value: role, selected: role === m.role } }),
        ),
      );
      select.addEventListener("change", () => this.act(() => ctl.setRole(c.id, m.userId, Number(select.value) as MemberRole)));
      li.append(select);
    }
    if (mayRemove) {
      const remove = h("button", {
        class: "secondary remove",
        text: "Remove",
        attrs: { type: "button", "aria-label": `Remove ${ctl.profiles.nameOf(m.userId)}` },
      });
      remove.addEventListener("click", () => this.act(() => ctl.removeMember(c.id, m.userId)));
      li.append(remove);
    }
    return li;
  }
}
