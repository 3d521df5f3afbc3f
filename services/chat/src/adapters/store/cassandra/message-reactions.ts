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
} from "../../../ports.js";
import { reactionItem, uniqueSorted } from "../sql-rows.js";
import { monthOf } from "./buckets.js";
import { target } from "./message-changes.js";
import type { Writer } from "./message-writes.js";
import { claimSeq, ENTRY_REACTED, ENTRY_UNREACTED, type EntryRef } from "./seq-claim.js";

/**
 * Reactions on Cassandra (docs/architecture.md, "Message store on
 * Cassandra"). A message's reactions live on its row, as a JSON list in one
 * text cell, changed by compare-and-set (a lightweight transaction: IF the
 * cell is what was read and the message is not deleted), so concurrent
 * changes to one message take turns and the caps hold. Then each member's
 * entry is claimed as an edit's is. Not atomic across the two: a process
 * dying in between leaves the change stored with some entries missing, and
 * a repeat of the request finds nothing to change.
 */

const table = (w: Writer) => `${w.cql.keyspace}.messages`;

/** Races lost to other changes of the same message before giving up (the client's retry starts again). */
const MAX_ATTEMPTS = 32;

/** The stored cell: [user id, emoji, epoch ms] per reaction. */
type Cell = [string, string, number][];

const parse = (cell: unknown): StoredReaction[] =>
  typeof cell === "string" && cell !== "" ? (JSON.parse(cell) as Cell).map(([u, emoji, at]) => ({ userId: BigInt(u), emoji, at: new Date(at) })) : [];

const serialize = (reactions: readonly StoredReaction[]): string | null =>
  reactions.length === 0 ? null : JSON.stringify(reactions.map((r): Cell[number] => [String(r.userId), r.emoji, r.at.getTime()]));

export async function react(w: Writer, change: MessageReaction): Promise<ReactionOutcome> {
  const { conversationId, messageId, userId, emoji, at } = change;
  const { members } = await target(w, conversationId, messageId, userId);
  const where = "WHERE conversation_id = ? AND month = ? AND message_id = ?";
  const key = [conversationId, monthOf(messageId), messageId];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [row] = await w.cql.serialRead(`SELECT reactions, deleted_at FROM ${table(w)} ${where}`, key);
    if (row === undefined) throw new MessageChangeRefused("no_message");
    if (row.deleted_at !== null && row.deleted_at !== undefined) throw new MessageChangeRefused("deleted");
    const cell = (row.reactions as string | null | undefined) ?? null;
    const before = parse(cell);
    const has = before.some((r) => r.userId === userId && r.emoji === emoji);
    if (has !== change.remove) return { counts: countReactions(before, userId), changed: false, actorSeq: 0n, entries: [] };
    if (!change.remove) {
      const cap = reactionCapReached(before, change);
      if (cap !== undefined) throw new MessageChangeRefused(cap);
    }
    const after = change.remove ? before.filter((r) => !(r.userId === userId && r.emoji === emoji)) : [...before, { userId, emoji, at }];
    const swapped = await w.cql.lwt(`UPDATE ${table(w)} SET reactions = ? ${where} IF deleted_at = null AND reactions = ?`, [serialize(after), ...key, cell]);
    if (swapped.applied) return recorded(w, members, change, after);
  }
  throw new Error(`message ${messageId}: its reactions kept changing (${MAX_ATTEMPTS} attempts)`);
}

/** The change's entry in every member's inbox, each with the counts as that member sees them. */
async function recorded(w: Writer, members: readonly bigint[], change: MessageReaction, after: StoredReaction[]): Promise<ReactionOutcome> {
  const { conversationId, messageId, userId, emoji, at } = change;
  const kind = change.remove ? ENTRY_UNREACTED : ENTRY_REACTED;
  const ref: EntryRef = { kind, conversationId, messageId, readerId: userId, readAt: at, emoji };
  const users = uniqueSorted(members);
  const floors = await w.inbox.heads(users);
  const entries = await Promise.all(
    users.map(async (user): Promise<InboxEntry> => {
      const { seq } = await claimSeq(w.inbox, user, floors.get(user) ?? 0n, ref);
      await w.inbox.advanceHead(user, seq);
      const item = reactionItem(kind, conversationId, messageId, userId, emoji, at);
      if (item.kind === "reacted") item.reaction.counts = countReactions(after, user);
      return { userId: user, seq, item };
    }),
  );
  const actorSeq = entries.find((e) => e.userId === userId)?.seq ?? 0n;
  return { counts: countReactions(after, userId), changed: true, actorSeq, entries };
}

/** The reactions of each message, counted for the viewer: one read per message, in parallel. */
export async function reactionsOf(w: Writer, messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, ReactionCount[]>> {
  const unique = [...new Map(messages.map((m) => [m.messageId, m])).values()];
  const found = await Promise.all(
    unique.map(async ({ conversationId, messageId }) => {
      const [row] = await w.cql.read(`SELECT reactions FROM ${table(w)} WHERE conversation_id = ? AND month = ? AND message_id = ?`, [
        conversationId,
        monthOf(messageId),
        messageId,
      ]);
      return [messageId, parse(row?.reactions)] as const;
    }),
  );
  return new Map(found.filter(([, list]) => list.length > 0).map(([id, list]) => [id, countReactions(list, viewerId)]));
}
