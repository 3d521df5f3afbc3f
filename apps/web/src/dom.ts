/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The web app is the one browser workspace: the DOM's types come in here rather
// than in tsconfig.base.json, so the server workspaces' builds never see them.
// (The root `tsc -p .` checks every workspace in one program, so there the DOM
// is visible to all; packages/client, which runs in browsers, compiles either way.)

/** What `h` sets on a new element besides its children. */
export interface Props {
  class?: string;
  id?: string;
  text?: string;
  /** Attributes, aria-* and data-* included; `false` and undefined leave one out. */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

export type Child = Node | string | false | null | undefined;

/** Creates an element: `h("button", { text: "Send", on: { click } })`. Text is always set as text, never parsed as HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.id) el.id = props.id;
  if (props.text !== undefined) el.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const [type, listener] of Object.entries(props.on ?? {})) el.addEventListener(type, listener as EventListener);
  append(el, children);
  return el;
}

export function append(parent: Element, children: Child[]): void {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    parent.append(child);
  }
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** The element with this id, which the page must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

/** A labelled text field: the label's `for` names the input, so screen readers and clicks find it. */
export function field(id: string, label: string, input: Props["attrs"] = {}): { wrapper: HTMLElement; input: HTMLInputElement } {
  const el = h("input", { id, attrs: { name: id, type: "text", ...input } });
  return { wrapper: h("p", { class: "field" }, h("label", { text: label, attrs: { for: id } }), el), input: el };
}
