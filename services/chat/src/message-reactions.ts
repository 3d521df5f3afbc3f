import type { InboxEntry } from "./ports.js";

/**
 * The message store's records for reactions (re-exported by ports.ts, whose
 * MessageStore port takes them).
 */

/** The caps on reactions, enforced by every store inside the change's transaction. */
export const REACTION_LIMITS = {
  /** Distinct emoji on one message: a 21st different emoji is refused. */
  distinctPerMessage: 20,
  /** Emoji one user has on one message: a 4th is refused until they remove one. */
  perUserPerMessage: 3,
} as const;

/** One emoji's reactions to a message, as one user sees them. */
export interface ReactionCount {
  emoji: string;
  count: number;
  /** The viewing user is one of them. */
  mine: boolean;
}

/** One user's reaction to a message, as stored. */
export interface StoredReaction {
  userId: bigint;
  emoji: string;
  at: Date;
}

/** A member added or removed a reaction; `counts` are the message's reactions as the entry's user sees them. */
export interface ReactionRecord {
  conversationId: bigint;
  messageId: bigint;
  byUserId: bigint;
  emoji: string;
  removed: boolean;
  at: Date;
  counts: ReactionCount[];
}

/** An addition or removal of `userId`'s reaction `emoji` to a message. */
export interface MessageReaction {
  conversationId: bigint;
  messageId: bigint;
  userId: bigint;
  emoji: string;
  remove: boolean;
  at: Date;
}

/** A message of a conversation, to read its reactions. */
export interface MessageKey {
  conversationId: bigint;
  messageId: bigint;
}

/** What a reaction change stored. */
export interface ReactionOutcome {
  /** The message's reactions after the change, as the acting user sees them. */
  counts: ReactionCount[];
  /** False when there was nothing to do (already there, or already absent): no entries then. */
  changed: boolean;
  /** The acting user's own seq of the reacted entry (0 when unchanged). */
  actorSeq: bigint;
  /** One per current member, ascending by user id, each with the counts as that member sees them. */
  entries: InboxEntry[];
}

/**
 * The counts of a message's reactions for `viewerId`: one per emoji, in the
 * order each emoji was first added (then by emoji, for equal times).
 */
export function countReactions(reactions: readonly StoredReaction[], viewerId: bigint): ReactionCount[] {
  const byEmoji = new Map<string, { count: number; mine: boolean; first: number }>();
  for (const r of reactions) {
    const seen = byEmoji.get(r.emoji);
    if (seen === undefined) byEmoji.set(r.emoji, { count: 1, mine: r.userId === viewerId, first: r.at.getTime() });
    else {
      seen.count++;
      seen.mine ||= r.userId === viewerId;
      seen.first = Math.min(seen.first, r.at.getTime());
    }
  }
  return [...byEmoji].sort(([a, x], [b, y]) => x.first - y.first || (a < b ? -1 : a > b ? 1 : 0)).map(([emoji, { count, mine }]) => ({ emoji, count, mine }));
}

/** Why a reaction is refused past the checks every message change shares (see MessageChangeRefusal). */
export function reactionCapReached(reactions: readonly StoredReaction[], change: MessageReaction): "too_many_emoji" | "too_many_mine" | undefined {
  const emoji = new Set(reactions.map((r) => r.emoji));
  if (!emoji.has(change.emoji) && emoji.size >= REACTION_LIMITS.distinctPerMessage) return "too_many_emoji";
  if (reactions.filter((r) => r.userId === change.userId).length >= REACTION_LIMITS.perUserPerMessage) return "too_many_mine";
  return undefined;
}
