import type { Message } from "@parley/contracts/parley/chat/v1/chat";
import { h } from "./dom.js";

/**
 * "@name" as the server reads it (services/chat/src/domain/mentions.ts): at
 * the start or after a character that cannot be part of a name, a name being
 * a username's shape. Only names of the message's mentionedUserIds are
 * highlighted, so "@nobody" or a mail address stays plain text.
 */
const MENTION = /(?<![A-Za-z0-9_@])@([A-Za-z][A-Za-z0-9_]*)/g;

/**
 * The usernames (lower-cased) of the users a message mentions, as far as
 * they are known: `usernameOf` answers undefined until a profile has loaded,
 * and the message is drawn again then (its signature changes).
 */
export function mentionedNames(m: Message, usernameOf: (userId: bigint) => string | undefined): Map<string, bigint> {
  const names = new Map<string, bigint>();
  for (const id of m.mentionedUserIds) {
    const username = usernameOf(id);
    if (username !== undefined) names.set(username.toLowerCase(), id);
  }
  return names;
}

/** The text with its mentions of `names` as <strong class="mention"> (this user's own marked "me"); text nodes only, never parsed as HTML. */
export function textWithMentions(text: string, names: Map<string, bigint>, me: bigint): (Node | string)[] {
  if (names.size === 0 || !text.includes("@")) return [text];
  const parts: (Node | string)[] = [];
  let at = 0;
  for (const match of text.matchAll(MENTION)) {
    const userId = names.get(match[1]!.toLowerCase());
    if (userId === undefined) continue;
    parts.push(text.slice(at, match.index));
    parts.push(h("strong", { class: userId === me ? "mention me" : "mention", text: match[0] }));
    at = match.index + match[0].length;
  }
  parts.push(text.slice(at));
  return parts;
}
