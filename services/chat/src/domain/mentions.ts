import type { MessageStore, UserDirectory } from "../ports.js";

/** At most this many distinct @names of one message are looked up (more are left as plain text). */
export const MENTIONS_MAX = 50;

/**
 * "@name" at the start or after a character that cannot be part of a name
 * (so "mail@example.com" mentions nobody); a name is a username's shape
 * (account's rule: an ASCII letter, then letters, digits and underscores).
 */
const MENTION = /(?<![A-Za-z0-9_@])@([A-Za-z][A-Za-z0-9_]*)/g;

/** The distinct @names in a text, lower-cased, in order of first appearance; none (and no scan) without an "@". */
export function mentionedNames(text: string): string[] {
  if (!text.includes("@")) return [];
  const names = new Set<string>();
  for (const match of text.matchAll(MENTION)) {
    names.add(match[1]!.toLowerCase());
    if (names.size === MENTIONS_MAX) break;
  }
  return [...names];
}

/**
 * Resolves a message's @mentions to the user ids of the conversation's
 * current members, at the send: one read of the members and one call to the
 * account service for their usernames, only for a text with an "@" in it
 * (any other send makes neither). Usernames match case-insensitively, as the
 * account service compares them. The sender mentioning themselves is left
 * out (nothing to notify). Best effort about membership: the store checks
 * the sender's membership when it stores the message.
 */
export class Mentions {
  constructor(
    private readonly store: Pick<MessageStore, "getConversation">,
    private readonly users: UserDirectory,
  ) {}

  async resolve(conversationId: bigint, senderId: bigint, text: string): Promise<bigint[]> {
    const names = mentionedNames(text);
    if (names.length === 0) return [];
    const conversation = await this.store.getConversation(conversationId);
    const others = conversation?.members.map((m) => m.userId).filter((id) => id !== senderId) ?? [];
    if (others.length === 0) return [];
    const usernames = await this.users.usernames(others);
    const asked = new Set(others);
    const byName = new Map([...usernames].filter(([id]) => asked.has(id)).map(([id, name]) => [name.toLowerCase(), id]));
    return [...new Set(names.flatMap((name) => byName.get(name) ?? []))];
  }
}
