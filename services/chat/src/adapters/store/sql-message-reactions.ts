import type { Db } from "@parley/relational";
import {
  countReactions,
  MessageChangeRefused,
  reactionCapReached,
  type InboxEntry,
  type MessageKey,
  type MessageReaction,
  type ReactionCount,
  type ReactionOutcome,
  type StoredReaction,
} from "../../ports.js";
import { lockTarget } from "./sql-message-changes.js";
import { ENTRY_REACTED, ENTRY_UNREACTED, reactionItem, uniqueSorted } from "./sql-rows.js";

/**
 * Reactions on Postgres, each change one transaction (SqlMessageStore runs
 * it) taking the locks edits take, in their order: the conversation row
 * (shared), the message row (exclusive: changes to one message's reactions
 * take turns, so the caps are checked against the reactions they add to),
 * then inbox heads in ascending user id, so seqs stay gap-free.
 */

interface ReactionRow {
  message_id: string;
  user_id: string;
  emoji: string;
  reacted_at: Date;
}

const toReaction = (row: ReactionRow): StoredReaction => ({ userId: BigInt(row.user_id), emoji: row.emoji, at: row.reacted_at });

export async function reactInTransaction(tx: Db, change: MessageReaction): Promise<ReactionOutcome> {
  const { conversationId, messageId, userId, emoji, at } = change;
  const { members, message } = await lockTarget(tx, conversationId, messageId, userId);
  if (message.deletedAt !== undefined) throw new MessageChangeRefused("deleted");
  const { rows } = await tx.query<ReactionRow>(
    "SELECT message_id, user_id, emoji, reacted_at FROM message_reactions WHERE conversation_id = $1 AND message_id = $2",
    [String(conversationId), String(messageId)],
  );
  const before = rows.map(toReaction);
  const has = before.some((r) => r.userId === userId && r.emoji === emoji);
  if (has !== change.remove) return { counts: countReactions(before, userId), changed: false, actorSeq: 0n, entries: [] };
  let after: StoredReaction[];
  if (change.remove) {
    await tx.query("DELETE FROM message_reactions WHERE conversation_id = $1 AND message_id = $2 AND user_id = $3 AND emoji = $4", [
      String(conversationId),
      String(messageId),
      String(userId),
      emoji,
    ]);
    after = before.filter((r) => !(r.userId === userId && r.emoji === emoji));
  } else {
    const cap = reactionCapReached(before, change);
    if (cap !== undefined) throw new MessageChangeRefused(cap);
    await tx.query("INSERT INTO message_reactions (conversation_id, message_id, user_id, emoji, reacted_at) VALUES ($1, $2, $3, $4, $5)", [
      String(conversationId),
      String(messageId),
      String(userId),
      emoji,
      at,
    ]);
    after = [...before, { userId, emoji, at }];
  }
  const kind = change.remove ? ENTRY_UNREACTED : ENTRY_REACTED;
  const seqs = await appendReactionEntries(tx, uniqueSorted(members), kind, change);
  const entries: InboxEntry[] = [...seqs].map(([user, seq]) => {
    const item = reactionItem(kind, conversationId, messageId, userId, emoji, at);
    if (item.kind === "reacted") item.reaction.counts = countReactions(after, user);
    return { userId: user, seq, item };
  });
  return { counts: countReactions(after, userId), changed: true, actorSeq: seqs.get(userId) ?? 0n, entries };
}

/** Each user's (sorted, unique) next seq with a reaction entry, in one statement, as appendEntries does for the other kinds. */
async function appendReactionEntries(tx: Db, users: readonly bigint[], kind: number, change: MessageReaction): Promise<Map<bigint, bigint>> {
  const { rows } = await tx.query<{ user_id: string; seq: string }>(
    `WITH heads AS (
       INSERT INTO inbox_heads AS h (user_id, head_seq)
       SELECT u, 1 FROM unnest($1::bigint[]) AS u ORDER BY u
       ON CONFLICT (user_id) DO UPDATE SET head_seq = h.head_seq + 1
       RETURNING h.user_id, h.head_seq)
     INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id, actor_id, emoji, acted_at)
     SELECT user_id, head_seq, $2, $3, $4, $5, $6, $7 FROM heads
     RETURNING user_id, seq`,
    [users.map(String), kind, String(change.conversationId), String(change.messageId), String(change.userId), change.emoji, change.at],
  );
  const seqs = new Map<bigint, bigint>();
  for (const row of rows) seqs.set(BigInt(row.user_id), BigInt(row.seq));
  return new Map([...seqs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The reactions of each message, counted for the viewer, in one statement. */
export async function reactionsOf(db: Db, messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, ReactionCount[]>> {
  const result = new Map<bigint, ReactionCount[]>();
  if (messages.length === 0) return result;
  const unique = [...new Map(messages.map((m) => [m.messageId, m])).values()];
  const { rows } = await db.query<ReactionRow>(
    `SELECT r.message_id, r.user_id, r.emoji, r.reacted_at FROM message_reactions r
     JOIN unnest($1::bigint[], $2::bigint[]) AS k(c, m) ON r.conversation_id = k.c AND r.message_id = k.m`,
    [unique.map((m) => String(m.conversationId)), unique.map((m) => String(m.messageId))],
  );
  const byMessage = new Map<bigint, StoredReaction[]>();
  for (const row of rows) {
    const id = BigInt(row.message_id);
    const list = byMessage.get(id) ?? [];
    list.push(toReaction(row));
    byMessage.set(id, list);
  }
  for (const [id, list] of byMessage) result.set(id, countReactions(list, viewerId));
  return result;
}
