import { type ChatController, errorText } from "./controller.js";
import { fill, h } from "./dom.js";

/**
 * Blocking, in two places: the direct conversation's header (Block, asked
 * first, inline, as deletions are; Unblock once blocked) and the sidebar's
 * "Blocked users" list, each with Unblock. The server enforces a block
 * (neither user can send in their direct conversation); a refusal of these
 * calls is shown in words (role="alert").
 */
export class BlockButton {
  readonly element = h("span", { class: "block-controls" });
  private peer: bigint | undefined;
  private confirming = false;
  private busy = false;
  private error = "";
  private shown = "";
  /** What to focus after the redraw a step causes (the clicked button is replaced). */
  private focusNext: "block" | "no" | "unblock" | undefined;

  constructor(private readonly ctl: ChatController) {}

  /** Draws the controls for the direct conversation with `peer` (undefined: a group, nothing to draw). */
  render(peer: bigint | undefined): void {
    const { blocking, profiles } = this.ctl;
    if (peer !== this.peer) {
      this.peer = peer;
      this.confirming = false;
      this.error = "";
    }
    const blocked = peer !== undefined && blocking.has(peer);
    const name = peer === undefined ? "" : profiles.nameOf(peer);
    const signature = `${peer}|${blocking.loaded}|${blocked}|${this.confirming}|${this.busy}|${this.error}|${name}`;
    if (signature === this.shown) return; // keeps the buttons (and a focus on one) across redraws
    this.shown = signature;
    if (peer === undefined || !blocking.loaded) {
      fill(this.element);
      return;
    }
    const error = this.error ? h("span", { class: "action-error", text: this.error, attrs: { role: "alert" } }) : null;
    if (blocked) {
      const unblock = this.button("Unblock", "secondary", `Unblock ${name}`, () => this.run(() => blocking.unblock(peer), `${name} unblocked`, "block"));
      fill(this.element, unblock, error);
      this.focus("unblock", unblock);
      return;
    }
    if (this.confirming) {
      const yes = this.button("Yes, block", "danger", undefined, () => this.run(() => blocking.block(peer), `${name} blocked`, "unblock"));
      const no = this.button("No", "secondary", undefined, () => this.step(false, "block"));
      const question = h("span", { class: "question", text: `Block ${name}? Neither of you will be able to send messages here until you unblock them.` });
      fill(this.element, h("span", { class: "confirm", attrs: { role: "group", "aria-label": "Confirm block" } }, question, " ", yes, " ", no), error);
      this.focus("no", no);
      return;
    }
    const block = this.button("Block", "danger", `Block ${name}`, () => this.step(true, "no"));
    fill(this.element, block, error);
    this.focus("block", block);
  }

  private button(text: string, cls: string, label: string | undefined, onClick: () => void): HTMLButtonElement {
    return h("button", {
      class: cls,
      text: this.busy && cls === "danger" && this.confirming ? "Blocking…" : text,
      attrs: { type: "button", "aria-label": label, disabled: this.busy },
      on: { click: onClick },
    });
  }

  private step(confirming: boolean, focus: "block" | "no"): void {
    this.confirming = confirming;
    this.error = "";
    this.focusNext = focus;
    this.ctl.state.changed();
  }

  private run(call: () => Promise<void>, done: string, focus: "block" | "unblock"): void {
    this.busy = true;
    this.error = "";
    this.ctl.state.changed();
    call().then(
      () => {
        this.busy = false;
        this.confirming = false;
        this.focusNext = focus;
        this.ctl.onAnnounce(done);
        this.ctl.state.changed();
        void this.ctl.refreshPresence(); // a block hides presence both ways; an unblock shows it again
      },
      (err: unknown) => {
        this.busy = false;
        this.error = errorText(err);
        this.ctl.state.changed();
      },
    );
  }

  private focus(which: "block" | "no" | "unblock", el: HTMLElement): void {
    if (this.focusNext !== which) return;
    this.focusNext = undefined;
    // After this redraw: the element is placed in the page by then.
    requestAnimationFrame(() => el.isConnected && el.focus());
  }
}

/** The sidebar's list of blocked users: read when opened (no event announces a block made in another tab), each with Unblock. */
export function blockedList(ctl: ChatController): { element: HTMLElement; render: () => void } {
  const list = h("ul", { id: "blocked-users", class: "blocked-users", attrs: { "aria-label": "Blocked users" } });
  const error = h("p", { class: "error", attrs: { role: "alert" } });
  const details = h("details", { class: "start blocked" }, h("summary", { text: "Blocked users" }), list, error);
  details.addEventListener("toggle", () => {
    if (!details.open) return;
    error.textContent = "";
    ctl.blocking.load().catch((err: unknown) => (error.textContent = errorText(err)));
  });
  let shown = "";
  const render = () => {
    const blocked = [...ctl.blocking.blocked.values()];
    const signature = blocked.map((p) => `${p.userId}:${p.displayName}:${p.username}`).join(",");
    if (signature === shown && list.childElementCount > 0) return;
    shown = signature;
    if (blocked.length === 0) {
      fill(list, h("li", { class: "empty", text: "You block nobody." }));
      return;
    }
    fill(
      list,
      ...blocked.map((p) => {
        const name = p.displayName || p.username;
        const unblock = h("button", { class: "secondary", text: "Unblock", attrs: { type: "button", "aria-label": `Unblock ${name}` } });
        unblock.addEventListener("click", () => {
          unblock.disabled = true;
          error.textContent = "";
          ctl.blocking.unblock(p.userId).then(
            () => {
              ctl.onAnnounce(`${name} unblocked`);
              void ctl.refreshPresence();
              details.querySelector("summary")?.focus(); // the row and its button are gone
            },
            (err: unknown) => {
              unblock.disabled = false;
              error.textContent = errorText(err);
            },
          );
        });
        return h("li", { attrs: { "data-user-id": String(p.userId) } }, h("span", { class: "name", text: name }), unblock);
      }),
    );
  };
  return { element: details, render };
}
