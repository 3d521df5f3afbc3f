import { countCodePoints, cutToCodePoints } from "@parley/runtime";
import { InvalidInput } from "../errors.js";
import type { Rendered } from "../ports.js";

/** The notification kinds, as stored (the contract's Kind enum maps onto these). */
export type TemplateName = "new_message" | "added_to_group" | "friend_request";

/** What the recipient's settings change about the text. */
export interface RenderOptions {
  /** Show the start of a message; off shows a neutral body instead. */
  showPreviews: boolean;
  /** At most this many characters of a preview (a longer one is cut and ends in "…"). */
  previewLength: number;
}

interface Template {
  required: readonly string[];
  optional: readonly string[];
  render(p: Readonly<Record<string, string>>, options: RenderOptions): Rendered;
}

/** The default preview length when the user never chose one (settings' preview_length 0). */
export const DEFAULT_PREVIEW_LENGTH = 100;
const MAX_PARAM_CHARS = 4_096;

/**
 * Every notification's wording, in one table. Parameters are plain strings
 * from the caller; `data` carries the ids the app needs to open the right
 * screen, never the text.
 */
const TEMPLATES: Record<TemplateName, Template> = {
  new_message: {
    required: ["conversation_id", "sender_name", "preview"],
    // mentioned: "true" when the message mentions the recipient (see isMuted in notifications.ts).
    optional: ["conversation_name", "mentioned"],
    render: (p, o) => ({
      title: p.conversation_name ? `${p.sender_name} in ${p.conversation_name}` : p.sender_name!,
      body: o.showPreviews ? cut(p.preview!, o.previewLength) : "New message",
      data: { kind: "new_message", conversation_id: p.conversation_id! },
    }),
  },
  added_to_group: {
    required: ["conversation_id", "group_name", "by_name"],
    optional: [],
    render: (p) => ({
      title: p.group_name!,
      body: `${p.by_name} added you to ${p.group_name}`,
      data: { kind: "added_to_group", conversation_id: p.conversation_id! },
    }),
  },
  friend_request: {
    required: ["from_name"],
    optional: [],
    render: (p) => ({
      title: "Friend request",
      body: `${p.from_name} wants to be your friend`,
      data: { kind: "friend_request" },
    }),
  },
};

/** Refuses missing, unknown, empty or oversized parameters, naming each problem. */
export function checkParams(name: TemplateName, params: Readonly<Record<string, string>>): void {
  const template = TEMPLATES[name];
  const missing = template.required.filter((key) => !params[key]);
  if (missing.length > 0) throw new InvalidInput("params", `are missing ${missing.join(", ")} for ${name}`);
  const allowed = new Set([...template.required, ...template.optional]);
  const unknown = Object.keys(params).filter((key) => !allowed.has(key));
  if (unknown.length > 0) throw new InvalidInput("params", `name unknown parameters ${unknown.join(", ")} for ${name} (allowed: ${[...allowed].join(", ")})`);
  const long = Object.entries(params).filter(([, value]) => countCodePoints(value) > MAX_PARAM_CHARS);
  if (long.length > 0) throw new InvalidInput("params", `${long.map(([key]) => key).join(", ")} must be at most ${MAX_PARAM_CHARS} characters`);
}

/** The text of a notification; call checkParams first. */
export function render(name: TemplateName, params: Readonly<Record<string, string>>, options: RenderOptions): Rendered {
  return TEMPLATES[name].render(params, options);
}

/** Cuts by code points, so an emoji is never split in half. */
function cut(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const kept = cutToCodePoints(flat, max);
  return kept.length < flat.length ? `${kept}…` : flat;
}
