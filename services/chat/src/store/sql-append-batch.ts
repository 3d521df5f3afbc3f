import type { Db } from "@parley/relational";
import { ConversationMissingError, NotAMemberError, type InboxEntry, type SendOutcome, type StoredMessage } from "./ports.js";
import { ENTRY_MESSAGE, MESSAGE_COLUMNS, copyMessage, toMessage, uniqueSorted, type MessageRow } from "./sql-rows.js";

type Outcome = SendOutcome | Error;

const keyOf = (m: StoredMessage) => `${m.senderId}\u0000${m.clientMsgId}`;

/**
 * Group commit: many sends in one transaction and a fixed number of
 * statements, whatever the batch size (claims, conversation locks, members,
 * seq heads, inbox rows, messages, sender seqs). Each message's outcome is
 * what append() would have given it alone, in batch order: the batch is one
 * sequence of appends, committed together.
 *
 * Locks are taken as every writer takes them: conversations in id order,
 * then inbox heads in user id order, so batches and single appends never
 * wait on each other in a cycle.
 */
export async function appendBatchInTx(tx: Db, messages: readonly StoredMessage[]): Promise<Outcome[]> {
  const outcomes: (Outcome | undefined)[] = new Array(messages.length);
  const firstOf = new Map<string, number>();
  const repeats: [number, number][] = [];
  const fresh: number[] = [];
  messages.forEach((m, i) => {
    if (m.system !== undefined || m.senderId === 0n) throw new Error("appendBatch takes user messages only; system messages go through append");
    const first = m.clientMsgId === "" ? undefined : firstOf.get(keyOf(m));
    if (first !== undefined) {
      repeats.push([i, first]);
    } else {
      if (m.clientMsgId !== "") firstOf.set(keyOf(m), i);
      fresh.push(i);
    }
  });

  const claimed = await claim(tx, messages, fresh);
  const live = fresh.filter((i) => messages[i]!.clientMsgId === "" || claimed.has(keyOf(messages[i]!)));
  await fillDuplicates(tx, messages, fresh.filter((i) => !live.includes(i)), outcomes);

  const existing = await lockConversations(tx, live.map((i) => messages[i]!));
  const members = await membersOf(tx, [...existing]);
  const stored: number[] = [];
  const refused: number[] = [];
  for (const i of live) {
    const m = messages[i]!;
    if (!existing.has(m.conversationId)) outcomes[i] = new ConversationMissingError(`conversation ${m.conversationId} does not exist`);
    else if (!members.get(m.conversationId)?.includes(m.senderId)) outcomes[i] = new NotAMemberError(`user ${m.senderId} is not a member of conversation ${m.conversationId}`);
    else stored.push(i);
    if (outcomes[i] !== undefined && m.clientMsgId !== "") refused.push(i);
  }
  await unclaim(tx, messages, refused);
  await store(tx, messages, stored, members, outcomes);
  for (const [i, first] of repeats) {
    const original = outcomes[first]!;
    outcomes[i] = original instanceof Error ? original : { message: original.message, senderSeq: original.senderSeq, duplicate: true, entries: [] };
  }
  return outcomes as Outcome[];
}

async function claim(tx: Db, messages: readonly StoredMessage[], fresh: number[]): Promise<Set<string>> {
  const withId = fresh.map((i) => messages[i]!).filter((m) => m.clientMsgId !== "");
  if (withId.length === 0) return new Set();
  const { rows } = await tx.query<{ sender_id: string; client_msg_id: string }>(
    `INSERT INTO sent_messages (sender_id, client_msg_id, conversation_id, message_id)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[]) ORDER BY 1, 2
     ON CONFLICT (sender_id, client_msg_id) DO NOTHING RETURNING sender_id, client_msg_id`,
    [withId.map((m) => String(m.senderId)), withId.map((m) => m.clientMsgId), withId.map((m) => String(m.conversationId)), withId.map((m) => String(m.messageId))],
  );
  return new Set(rows.map((r) => `${r.sender_id}\u0000${r.client_msg_id}`));
}

/** Claims that were already taken: the original message and the sender's seq, as a repeat of it. */
async function fillDuplicates(tx: Db, messages: readonly StoredMessage[], taken: number[], outcomes: (Outcome | undefined)[]): Promise<void> {
  if (taken.length === 0) return;
  const { rows } = await tx.query<MessageRow & { sender_seq: string }>(
    `SELECT s.sender_seq, ${MESSAGE_COLUMNS} FROM sent_messages s
     JOIN messages m ON m.conversation_id = s.conversation_id AND m.message_id = s.message_id
     JOIN unnest($1::bigint[], $2::text[]) AS k(sender_id, client_msg_id) ON s.sender_id = k.sender_id AND s.client_msg_id = k.client_msg_id`,
    [taken.map((i) => String(messages[i]!.senderId)), taken.map((i) => messages[i]!.clientMsgId)],
  );
  const found = new Map(rows.map((r) => [`${r.sender_id}\u0000${r.client_msg_id}`, r]));
  for (const i of taken) {
    const row = found.get(keyOf(messages[i]!));
    outcomes[i] = row
      ? { message: toMessage(row), senderSeq: BigInt(row.sender_seq), duplicate: true, entries: [] }
      : new Error(`client message ${messages[i]!.clientMsgId} is claimed but not stored`);
  }
}

/** Locks the conversations in id order and moves their activity to the newest message; returns those that exist. */
async function lockConversations(tx: Db, messages: StoredMessage[]): Promise<Set<bigint>> {
  const newest = new Map<bigint, bigint>();
  for (const m of messages) if ((newest.get(m.conversationId) ?? -1n) < m.messageId) newest.set(m.conversationId, m.messageId);
  if (newest.size === 0) return new Set();
  const ids = uniqueSorted([...newest.keys()]);
  const { rows } = await tx.query<{ id: string }>("SELECT id FROM conversations WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE", [ids.map(String)]);
  const locked = rows.map((r) => BigInt(r.id));
  if (locked.length === 0) return new Set();
  await tx.query(
    `UPDATE conversations c SET last_activity_id = GREATEST(c.last_activity_id, a.newest)
     FROM unnest($1::bigint[], $2::bigint[]) AS a(id, newest) WHERE c.id = a.id`,
    [locked.map(String), locked.map((id) => String(newest.get(id)))],
  );
  return new Set(locked);
}

async function membersOf(tx: Db, conversationIds: bigint[]): Promise<Map<bigint, bigint[]>> {
  const byConversation = new Map<bigint, bigint[]>();
  if (conversationIds.length === 0) return byConversation;
  const { rows } = await tx.query<{ conversation_id: string; user_id: string }>(
    "SELECT conversation_id, user_id FROM conversation_members WHERE conversation_id = ANY($1::bigint[])",
    [conversationIds.map(String)],
  );
  for (const r of rows) {
    const id = BigInt(r.conversation_id);
    byConversation.set(id, [...(byConversation.get(id) ?? []), BigInt(r.user_id)]);
  }
  return byConversation;
}

/** Gives back the claims of messages that were refused, so a later retry can store them. */
async function unclaim(tx: Db, messages: readonly StoredMessage[], refused: number[]): Promise<void> {
  if (refused.length === 0) return;
  await tx.query(
    `DELETE FROM sent_messages s USING unnest($1::bigint[], $2::text[]) AS k(sender_id, client_msg_id)
     WHERE s.sender_id = k.sender_id AND s.client_msg_id = k.client_msg_id`,
    [refused.map((i) => String(messages[i]!.senderId)), refused.map((i) => messages[i]!.clientMsgId)],
  );
}

/** Writes the messages, their inbox entries (seqs from one head update per user) and the senders' seqs. */
async function store(tx: Db, messages: readonly StoredMessage[], stored: number[], members: Map<bigint, bigint[]>, outcomes: (Outcome | undefined)[]): Promise<void> {
  if (stored.length === 0) return;
  const recipients = stored.map((i) => uniqueSorted(members.get(messages[i]!.conversationId)!));
  const counts = new Map<bigint, number>();
  for (const list of recipients) for (const u of list) counts.set(u, (counts.get(u) ?? 0) + 1);
  const users = uniqueSorted([...counts.keys()]);
  const heads = await tx.query<{ user_id: string; head_seq: string }>(
    `INSERT INTO inbox_heads AS h (user_id, head_seq)
     SELECT * FROM unnest($1::bigint[], $2::bigint[]) ORDER BY 1
     ON CONFLICT (user_id) DO UPDATE SET head_seq = h.head_seq + EXCLUDED.head_seq
     RETURNING h.user_id, h.head_seq`,
    [users.map(String), users.map((u) => String(counts.get(u)))],
  );
  const next = new Map(heads.rows.map((r) => [BigInt(r.user_id), BigInt(r.head_seq) - BigInt(counts.get(BigInt(r.user_id))!) + 1n]));
  const inbox: { user: bigint; seq: bigint; conversation: bigint; message: bigint }[] = [];
  stored.forEach((i, k) => {
    const m = copyMessage(messages[i]!);
    const entries: InboxEntry[] = recipients[k]!.map((userId) => {
      const seq = next.get(userId)!;
      next.set(userId, seq + 1n);
      inbox.push({ user: userId, seq, conversation: m.conversationId, message: m.messageId });
      return { userId, seq, item: { kind: "message", message: m } };
    });
    outcomes[i] = { message: m, senderSeq: entries.find((e) => e.userId === m.senderId)?.seq ?? 0n, duplicate: false, entries };
  });
  await tx.query(
    `INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id)
     SELECT u, s, ${ENTRY_MESSAGE}, c, m FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS a(u, s, c, m)`,
    [inbox.map((e) => String(e.user)), inbox.map((e) => String(e.seq)), inbox.map((e) => String(e.conversation)), inbox.map((e) => String(e.message))],
  );
  const rows = stored.map((i) => messages[i]!);
  await tx.query(
    `INSERT INTO messages (conversation_id, message_id, sender_id, sender_device_id, client_msg_id, text, created_at)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::timestamptz[])`,
    [
      rows.map((m) => String(m.conversationId)),
      rows.map((m) => String(m.messageId)),
      rows.map((m) => String(m.senderId)),
      rows.map((m) => String(m.senderDeviceId)),
      rows.map((m) => m.clientMsgId),
      rows.map((m) => m.text),
      rows.map((m) => m.createdAt.toISOString()),
    ],
  );
  const seqs = stored.filter((i) => messages[i]!.clientMsgId !== "").map((i) => [messages[i]!, (outcomes[i] as SendOutcome).senderSeq] as const);
  if (seqs.length === 0) return;
  await tx.query(
    `UPDATE sent_messages s SET sender_seq = a.seq FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS a(sender_id, client_msg_id, seq)
     WHERE s.sender_id = a.sender_id AND s.client_msg_id = a.client_msg_id`,
    [seqs.map(([m]) => String(m.senderId)), seqs.map(([m]) => m.clientMsgId), seqs.map(([, seq]) => String(seq))],
  );
}
