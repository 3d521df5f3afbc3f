import type { ConversationSummary, InboxEntry, Receipt, StoredMessage } from "../../../ports.js";
import { monthOf } from "./buckets.js";
import { loadState, readMarkers } from "./conversations.js";
import type { Writer } from "./message-writes.js";
import { changeItem, reactionItem } from "../sql-rows.js";
import { bigintOf, READ_COLUMNS, toConversationRecord, toMessage, type ConversationState, type Row } from "./rows.js";
import { ENTRY_READ } from "./seq-claim.js";
import { toEntryRef } from "./inbox.js";

/**
 * The store's reads on Cassandra. What the SQL adapter answers with one
 * query costs here a query per month of history or per conversation of the
 * user (docs/architecture.md says which and why).
 */

const MAX_ID = 9223372036854775807n;
const LAST_MONTH = 999_912;
/** Conversations loaded at once by a listing or a badge count. */
const PARALLEL_LOADS = 16;

const table = (w: Writer, name: string) => `${w.cql.keyspace}.${name}`;

/** The conversation's months that hold messages, newest first, within [from, to]. */
async function months(w: Writer, conversationId: bigint, from: number, to: number): Promise<number[]> {
  const rows = await w.cql.read(`SELECT month FROM ${table(w, "message_months")} WHERE conversation_id = ? AND month >= ? AND month <= ?`, [
    conversationId,
    from,
    to,
  ]);
  return rows.map((row) => Number(row.month));
}

/** With `viewerId`, the messages that user deleted for themselves are left out (read first: one query per page). */
export async function history(
  w: Writer,
  conversationId: bigint,
  before: bigint | undefined,
  limit: number,
  notBefore = 0n,
  viewerId?: bigint,
): Promise<StoredMessage[]> {
  const hidden = viewerId === undefined ? new Map<bigint, Date>() : await hiddenIn(w, viewerId, conversationId);
  const found: StoredMessage[] = [];
  const upper = before ?? MAX_ID;
  for (const month of await months(w, conversationId, monthOf(notBefore), before === undefined ? LAST_MONTH : monthOf(before))) {
    if (found.length >= limit) break;
    // Asks for as many more as could be hidden, so a page is full when enough messages remain.
    const rows = await w.cql.read(
      `SELECT ${READ_COLUMNS} FROM ${table(w, "messages")} WHERE conversation_id = ? AND month = ? AND message_id < ? AND message_id >= ? LIMIT ?`,
      [conversationId, month, upper, notBefore, limit - found.length + hidden.size],
    );
    found.push(...rows.map(toMessage).filter((m) => !hidden.has(m.messageId)));
  }
  return found.slice(0, limit);
}

/** The messages of a conversation the user deleted for themselves, with when. */
export async function hiddenIn(w: Writer, userId: bigint, conversationId: bigint): Promise<Map<bigint, Date>> {
  const rows = await w.cql.read(`SELECT message_id, hidden_at FROM ${table(w, "hidden_messages")} WHERE user_id = ? AND conversation_id = ?`, [
    userId,
    conversationId,
  ]);
  return new Map(rows.map((row) => [bigintOf(row.message_id), row.hidden_at as Date]));
}

/** The user's entries after `afterSeq` with their full messages. */
export async function inboxEntries(w: Writer, rows: Row[], userId: bigint): Promise<InboxEntry[]> {
  const refs = rows.map((row) => ({ seq: bigintOf(row.seq), ref: toEntryRef(row) }));
  const pointing = refs.filter((r) => r.ref.kind !== ENTRY_READ && r.ref.emoji === undefined);
  const conversations = [...new Set(pointing.map((r) => r.ref.conversationId))];
  const [messages, hidden] = await Promise.all([
    loadMessages(
      w,
      pointing.map((r) => [r.ref.conversationId, r.ref.messageId] as const),
    ),
    Promise.all(conversations.map(async (id) => [id, await hiddenIn(w, userId, id)] as const)).then((pairs) => new Map(pairs)),
  ]);
  return refs.map(({ seq, ref }): InboxEntry => {
    if (ref.kind === ENTRY_READ) {
      const read = { conversationId: ref.conversationId, userId: ref.readerId!, messageId: ref.messageId, readAt: ref.readAt! };
      return { userId, seq, item: { kind: "read", read } };
    }
    if (ref.emoji !== undefined) return { userId, seq, item: reactionItem(ref.kind, ref.conversationId, ref.messageId, ref.readerId!, ref.emoji, ref.readAt!) };
    const message = messages.get(`${ref.conversationId}/${ref.messageId}`);
    // The message row is written before any entry that points to it, and message rows are never deleted (a deletion erases the text).
    if (message === undefined) throw new Error(`inbox entry ${userId}/${seq} has no stored message`);
    return { userId, seq, item: changeItem(ref.kind, message, userId, hidden.get(ref.conversationId)?.get(ref.messageId)) };
  });
}

/** Messages by "conversation/message" id, one query per (conversation, month) partition. */
async function loadMessages(w: Writer, keys: readonly (readonly [bigint, bigint])[]): Promise<Map<string, StoredMessage>> {
  const partitions = new Map<string, { conversationId: bigint; month: number; ids: bigint[] }>();
  for (const [conversationId, messageId] of keys) {
    const month = monthOf(messageId);
    const key = `${conversationId}/${month}`;
    const partition = partitions.get(key) ?? { conversationId, month, ids: [] };
    partition.ids.push(messageId);
    partitions.set(key, partition);
  }
  const found = new Map<string, StoredMessage>();
  await Promise.all(
    [...partitions.values()].map(async ({ conversationId, month, ids }) => {
      const rows = await w.cql.read(`SELECT ${READ_COLUMNS} FROM ${table(w, "messages")} WHERE conversation_id = ? AND month = ? AND message_id IN ?`, [
        conversationId,
        month,
        [...new Set(ids)],
      ]);
      for (const message of rows.map(toMessage)) found.set(`${message.conversationId}/${message.messageId}`, message);
    }),
  );
  return found;
}

export async function receipts(w: Writer, conversationId: bigint, messageId: bigint): Promise<Receipt[]> {
  const state = await loadState(w, conversationId, false);
  if (state === undefined) return [];
  const [markers, entryRows] = await Promise.all([
    readMarkers(w, conversationId),
    w.cql.read(`SELECT user_id, seq FROM ${table(w, "message_entries")} WHERE conversation_id = ? AND message_id = ?`, [conversationId, messageId]),
  ]);
  const seqs = new Map(entryRows.map((row) => [bigintOf(row.user_id), bigintOf(row.seq)]));
  const members = toConversationRecord(state, markers).members;
  return Promise.all(
    members.map(async (member): Promise<Receipt> => {
      const seq = seqs.get(member.userId);
      const delivered = seq !== undefined && (await highestCursor(w, member.userId)) >= seq;
      return { userId: member.userId, delivered, read: member.readMessageId >= messageId };
    }),
  );
}

async function highestCursor(w: Writer, userId: bigint): Promise<bigint> {
  const rows = await w.cql.read(`SELECT seq FROM ${table(w, "device_cursors")} WHERE user_id = ?`, [userId]);
  let highest = 0n;
  for (const row of rows) if (bigintOf(row.seq) > highest) highest = bigintOf(row.seq);
  return highest;
}

/** Unread messages of a member, counted up to `cap`: after their marker, from their horizon on, not their own, not system messages. */
export async function unread(w: Writer, state: ConversationState, userId: bigint, marker: bigint, cap: number): Promise<number> {
  return (await unreadWithMentions(w, state, userId, marker, cap)).count;
}

/** Unread messages (up to `cap`) and, of those, the ones that mention the user. */
export async function unreadWithMentions(
  w: Writer,
  state: ConversationState,
  userId: bigint,
  marker: bigint,
  cap: number,
): Promise<{ count: number; mentions: number }> {
  const counted = { count: 0, mentions: 0 };
  if (!state.roles.has(userId) || cap <= 0) return counted;
  const horizon = state.historyFrom.get(userId) ?? 0n;
  const from = marker + 1n > horizon ? marker + 1n : horizon;
  for (const month of await months(w, state.id, monthOf(from), LAST_MONTH)) {
    const query = `SELECT message_id, sender_id, deleted_at, mentioned FROM ${table(w, "messages")} WHERE conversation_id = ? AND month = ? AND message_id >= ?`;
    for await (const row of w.cql.scan(query, [state.id, month, from])) {
      const sender = bigintOf(row.sender_id);
      // Deleted messages (for everyone) are not news either.
      if (sender === userId || sender === 0n || row.deleted_at instanceof Date) continue;
      if (row.mentioned instanceof Set && [...(row.mentioned as Set<unknown>)].some((id) => bigintOf(id) === userId)) counted.mentions++;
      if (++counted.count >= cap) return counted;
    }
  }
  return counted;
}

export async function readMarkerOf(w: Writer, conversationId: bigint, userId: bigint): Promise<bigint> {
  const [row] = await w.cql.read(`SELECT read_message_id FROM ${table(w, "read_markers")} WHERE conversation_id = ? AND user_id = ?`, [conversationId, userId]);
  return row === undefined ? 0n : bigintOf(row.read_message_id);
}

/** The conversations the user is a member of and that are not deleted (user_conversations may hold a stale row). */
export async function conversationsOf(w: Writer, userId: bigint): Promise<ConversationState[]> {
  const rows = await w.cql.read(`SELECT conversation_id FROM ${table(w, "user_conversations")} WHERE user_id = ?`, [userId]);
  const states = await inBatches(rows, (row) => loadState(w, bigintOf(row.conversation_id), false));
  return states.filter((s): s is ConversationState => s !== undefined && !s.deleted && s.roles.has(userId));
}

export async function totalUnread(w: Writer, userId: bigint, cap: number): Promise<number> {
  let total = 0;
  for (const state of await conversationsOf(w, userId)) {
    if (total >= cap) break;
    total += await unread(w, state, userId, await readMarkerOf(w, state.id, userId), cap - total);
  }
  return total;
}

export async function listConversations(w: Writer, userId: bigint, limit: number, beforeActivityId?: bigint): Promise<ConversationSummary[]> {
  const withActivity = await inBatches(await conversationsOf(w, userId), async (state) => {
    const last = await lastMessage(w, state.id);
    const activity = last !== undefined && last.messageId > state.id ? last.messageId : state.id;
    return { state, last, activity };
  });
  const page = withActivity
    .filter((c) => beforeActivityId === undefined || c.activity < beforeActivityId)
    .sort((x, y) => (x.activity > y.activity ? -1 : x.activity < y.activity ? 1 : 0))
    .slice(0, limit);
  return Promise.all(
    page.map(async ({ state, last: newest, activity }): Promise<ConversationSummary> => {
      // The last message shown is the newest the user has not deleted for themselves.
      const last = newest === undefined ? undefined : (await history(w, state.id, undefined, 1, 0n, userId))[0];
      const markers = await readMarkers(w, state.id);
      const marker = markers.get(userId) ?? 0n;
      return {
        conversation: toConversationRecord(state, markers),
        ...(last === undefined ? {} : { lastMessage: last }),
        ...(await unreadWithMentions(w, state, userId, marker, Number.MAX_SAFE_INTEGER).then((u) => ({ unreadCount: u.count, unreadMentions: u.mentions }))),
        lastReadMessageId: marker,
        lastActivityId: activity,
      };
    }),
  );
}

/** The conversation's newest message by id. */
async function lastMessage(w: Writer, conversationId: bigint): Promise<StoredMessage | undefined> {
  const [month] = await months(w, conversationId, 0, LAST_MONTH);
  if (month === undefined) return undefined;
  const [row] = await w.cql.read(`SELECT ${READ_COLUMNS} FROM ${table(w, "messages")} WHERE conversation_id = ? AND month = ? LIMIT 1`, [
    conversationId,
    month,
  ]);
  return row === undefined ? undefined : toMessage(row);
}

async function inBatches<T, R>(items: readonly T[], load: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += PARALLEL_LOADS) results.push(...(await Promise.all(items.slice(i, i + PARALLEL_LOADS).map(load))));
  return results;
}
