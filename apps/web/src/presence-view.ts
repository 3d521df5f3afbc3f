import { h } from "./dom.js";
import { ago } from "./format.js";
import type { Presence } from "./state.js";

/** A dot for a user's presence, with its meaning in text for screen readers (and as a tooltip). */
export function presenceDot(presence: Presence | undefined): HTMLElement {
  const words = presenceText(presence);
  return h("span", { class: `dot ${presence?.online ? "online" : "offline"}`, attrs: { role: "img", "aria-label": words, title: words } });
}

/** "online", "last seen 5 min ago" (friends only: others see no time), "offline". */
export function presenceText(presence: Presence | undefined): string {
  if (presence === undefined) return "offline";
  if (presence.online) return "online";
  return presence.lastActiveAt === undefined ? "offline" : `last seen ${ago(presence.lastActiveAt)}`;
}
