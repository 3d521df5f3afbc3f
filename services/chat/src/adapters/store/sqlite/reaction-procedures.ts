/**
 * Reactions (run in the SQLite worker, each call one transaction that no
 * other call interleaves with, so the caps are checked against the
 * reactions the change adds to). They answer plain data: the outcome, or
 * the refusal's reason, which the adapter turns into MessageChangeRefused.
 */
import type { SqliteConnection } from "@parley/relational";
import {
  countReactions,
  reactionCapReached,
  type InboxEntry,
  type MessageChangeRefusal,
  type MessageKey,
  type MessageReaction,
  type ReactionCount,
  type ReactionOutcome,
  type StoredReaction,
} from "../../../ports.js";
import { ENTRY_REACTED, ENTRY_UNREACTED, reactionItem } from "../sql-rows.js";
import { target } from "./change-target.js";
import { InboxWriter } from "./inbox-writer.js";

export type ReactionResult = ReactionOutcome | { refused: MessageChangeRefusal };

interface ReactionRow {
  user_id: bigint;
  emoji: string;
  reacted_at: bigint;
}

function reactionsOfOne(db: SqliteConnection, conversationId: bigint, messageId: bigint): StoredReaction[] {
  return db
    .all<ReactionRow>("SELECT user_id, emoji, reacted_at FROM message_reactions WHERE conversation_id = ? AND message_id = ?", [conversationId, messageId])
    .map((row) => ({ userId: row.user_id, emoji: row.emoji, at: new Date(Number(row.reacted_at)) }));
}

export function react(db: SqliteConnection, change: MessageReaction): ReactionResult {
  const { conversationId, messageId, userId, emoji, at } = change;
  const found = target(db, conversationId, messageId, userId);
  if (typeof found === "string") return { refused: found };
  if (found.message.deletedAt !== undefined) return { refused: "deleted" };
  const before = reactionsOfOne(db, conversationId, messageId);
  const has = before.some((r) => r.userId === userId && r.emoji === emoji);
  if (has !== change.remove) return { counts: countReactions(before, userId), changed: false, actorSeq: 0n, entries: [] };
  let after: StoredReaction[];
  if (change.remove) {
    db.run("DELETE FROM message_reactions WHERE conversation_id = ? AND message_id = ? AND user_id = ? AND emoji = ?", [
      conversationId,
      messageId,
      userId,
      emoji,
    ]);
    after = before.filter((r) => !(r.userId === userId && r.emoji === emoji));
  } else {
    const cap = reactionCapReached(before, change);
    if (cap !== undefined) return { refused: cap };
    db.run("INSERT INTO message_reactions (conversation_id, message_id, user_id, emoji, reacted_at) VALUES (?, ?, ?, ?, ?)", [
      conversationId,
      messageId,
      userId,
      emoji,
      at.getTime(),
    ]);
    after = [...before, { userId, emoji, at }];
  }
  const kind = change.remove ? ENTRY_UNREACTED : ENTRY_REACTED;
  const inbox = new InboxWriter(db);
  // Members come ordered by user id, so the entries do too.
  const entries: InboxEntry[] = found.members.map((user) => {
    const seq = inbox.reactionEntry(user, kind, conversationId, messageId, userId, emoji, at.getTime());
    const item = reactionItem(kind, conversationId, messageId, userId, emoji, at);
    if (item.kind === "reacted") item.reaction.counts = countReactions(after, user);
    return { userId: user, seq, item };
  });
  const actorSeq = entries.find((e) => e.userId === userId)?.seq ?? 0n;
  return { counts: countReactions(after, userId), changed: true, actorSeq, entries };
}

/** The reactions of each message, counted for the viewer (one constant statement per message). */
export function reactionsOf(db: SqliteConnection, messages: readonly MessageKey[], viewerId: bigint): Map<bigint, ReactionCount[]> {
  const result = new Map<bigint, ReactionCount[]>();
  for (const { conversationId, messageId } of messages) {
    if (result.has(messageId)) continue;
    const reactions = reactionsOfOne(db, conversationId, messageId);
    if (reactions.length > 0) result.set(messageId, countReactions(reactions, viewerId));
  }
  return result;
}
