import { setTimeout as sleep } from "node:timers/promises";
import { types } from "cassandra-driver";
import type { InboxItem, SendOutcome, StoredMessage } from "../../../ports.js";
import { copyMessage, toEntries, uniqueSorted } from "../sql-rows.js";
import { monthOf } from "./buckets.js";
import type { Cql } from "./cql.js";
import type { CassandraInbox } from "./inbox.js";
import { bigintOf, MESSAGE_COLUMNS, messageValues, toMessage, type Row } from "./rows.js";
import { claimSeq, ENTRY_MESSAGE } from "./seq-claim.js";

/**
 * Storing a message and its inbox entries as a sequence of steps, each safe
 * to die after (docs/architecture.md, "Message store on Cassandra"): the
 * message row is the write-ahead record of what is to be done (recipients,
 * their floors) and who is doing it (owner, lease); whoever finds it
 * incomplete once the lease has run out takes it over and finishes it.
 */
export interface Writer {
  cql: Cql;
  inbox: CassandraInbox;
  /** How long a writer owns a message it is storing; a repeat waits this long before taking it over. */
  leaseMs: number;
}

/** The writer's lease on a message ran out (it was too slow; someone else finishes the message). */
export class LeaseLost extends Error {
  override name = "LeaseLost";
}

/** How close to its end a lease is treated as over: the margin for clock differences between chat processes (a fifth of shorter leases). */
const leaseMargin = (w: Writer) => Math.min(2_000, w.leaseMs / 5);

const table = (w: Writer, name: string) => `${w.cql.keyspace}.${name}`;

/**
 * Stores a new message for `recipients` (duplicates count once); "taken"
 * when a message with its id already exists in the conversation (nothing
 * written then).
 */
export async function storeNewMessage(w: Writer, message: StoredMessage, recipients: readonly bigint[]): Promise<SendOutcome | "taken"> {
  const users = uniqueSorted(recipients);
  const floors = await w.inbox.heads(users);
  const owner = types.Uuid.random();
  const leaseUntil = new Date(Date.now() + w.leaseMs);
  const month = monthOf(message.messageId);
  // Only a reply or a message with mentions names their columns: every other send's statement stays as it was (no null cells).
  const extra: [string, unknown][] = [];
  if (message.replyToMessageId !== undefined) extra.push(["reply_to", message.replyToMessageId]);
  if (message.mentionedUserIds !== undefined && message.mentionedUserIds.length > 0) extra.push(["mentioned", new Set(message.mentionedUserIds)]);
  const inserted = await w.cql.lwt(
    `INSERT INTO ${table(w, "messages")} (${MESSAGE_COLUMNS}, month, recipients, floors, owner, lease_until, complete${extra.map(([c]) => `, ${c}`).join("")})
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?${extra.map(() => ", ?").join("")}) IF NOT EXISTS`,
    [...messageValues(message), month, new Set(users), floors, owner, leaseUntil, false, ...extra.map(([, value]) => value)],
  );
  if (!inserted.applied) return "taken";
  await w.cql.write(`INSERT INTO ${table(w, "message_months")} (conversation_id, month) VALUES (?, ?)`, [message.conversationId, month]);
  return fillEntries(w, message, users, floors, owner, leaseUntil);
}

/**
 * The stored message's outcome once it is complete: waits while its writer's
 * lease runs, then takes it over and completes it. Undefined when no such
 * message row exists. `entries` are every recipient's entry.
 */
export async function completeMessage(w: Writer, conversationId: bigint, messageId: bigint): Promise<SendOutcome | undefined> {
  const giveUpAt = Date.now() + 3 * w.leaseMs;
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    const [row] = await w.cql.serialRead(
      `SELECT ${MESSAGE_COLUMNS}, recipients, floors, owner, lease_until, complete, sender_seq FROM ${table(w, "messages")}
       WHERE conversation_id = ? AND month = ? AND message_id = ?`,
      [conversationId, monthOf(messageId), messageId],
    );
    if (row === undefined) return undefined;
    const message = toMessage(row);
    if (row.complete === true) return { message, senderSeq: bigintOf(row.sender_seq ?? 0n), duplicate: false, entries: await storedEntries(w, message) };
    const leaseUntil = (row.lease_until as Date).getTime();
    if (Date.now() > giveUpAt) throw new Error(`message ${messageId} stays incomplete: its writers keep losing their leases`);
    if (Date.now() < leaseUntil) {
      await sleep(Math.min(pause, leaseUntil - Date.now()));
      continue;
    }
    const owner = types.Uuid.random();
    const newLease = new Date(Date.now() + w.leaseMs);
    const taken = await w.cql.lwt(
      `UPDATE ${table(w, "messages")} SET owner = ?, lease_until = ? WHERE conversation_id = ? AND month = ? AND message_id = ? IF owner = ? AND complete = false`,
      [owner, newLease, conversationId, monthOf(messageId), messageId, row.owner],
    );
    if (!taken.applied) continue;
    const users = row.recipients instanceof Set ? uniqueSorted([...(row.recipients as Set<bigint>)]) : [];
    const floors = row.floors instanceof Map ? (row.floors as Map<bigint, bigint>) : new Map<bigint, bigint>();
    return fillEntries(w, message, users, floors, owner, newLease);
  }
}

/** Claims each recipient's entry (finding the ones already there), then marks the message complete while still its owner. */
async function fillEntries(
  w: Writer,
  message: StoredMessage,
  users: readonly bigint[],
  floors: ReadonlyMap<bigint, bigint>,
  owner: types.Uuid,
  leaseUntil: Date,
): Promise<SendOutcome> {
  const ref = { kind: ENTRY_MESSAGE, conversationId: message.conversationId, messageId: message.messageId } as const;
  const beforeInsert = () => {
    if (Date.now() > leaseUntil.getTime() - leaseMargin(w)) throw new LeaseLost(`lease on message ${message.messageId} ran out`);
  };
  const claims = await Promise.allSettled(
    users.map(async (userId) => {
      const { seq } = await claimSeq(w.inbox, userId, floors.get(userId) ?? 0n, ref, { beforeInsert });
      await w.cql.write(`INSERT INTO ${table(w, "message_entries")} (conversation_id, message_id, user_id, seq) VALUES (?, ?, ?, ?)`, [
        message.conversationId,
        message.messageId,
        userId,
        seq,
      ]);
      await w.inbox.advanceHead(userId, seq);
      return [userId, seq] as const;
    }),
  );
  const failed = claims.find((c) => c.status === "rejected");
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  const seqs = new Map(claims.map((c) => (c as PromiseFulfilledResult<readonly [bigint, bigint]>).value));
  const senderSeq = seqs.get(message.senderId) ?? 0n;
  const completed = await w.cql.lwt(
    `UPDATE ${table(w, "messages")} SET complete = true, sender_seq = ? WHERE conversation_id = ? AND month = ? AND message_id = ? IF owner = ?`,
    [senderSeq, message.conversationId, monthOf(message.messageId), message.messageId, owner],
  );
  if (!completed.applied) throw new LeaseLost(`message ${message.messageId} was taken over before it was complete`);
  const stored = copyMessage(message);
  const item: InboxItem = { kind: "message", message: stored };
  return { message: stored, senderSeq, duplicate: false, entries: toEntries(seqs, item) };
}

/** Every recipient's entry of a stored message, ordered by user id. */
async function storedEntries(w: Writer, message: StoredMessage) {
  const rows = await w.cql.read(`SELECT user_id, seq FROM ${table(w, "message_entries")} WHERE conversation_id = ? AND message_id = ?`, [
    message.conversationId,
    message.messageId,
  ]);
  const seqs = new Map(rows.map((row: Row) => [bigintOf(row.user_id), bigintOf(row.seq)]));
  return toEntries(seqs, { kind: "message", message });
}

/**
 * Claims (sender, clientMsgId) for `message`. Undefined: the caller owns the
 * claim and stores the message. Otherwise the original's outcome
 * (duplicate=true), waited for while its writer works on it. A claim whose
 * message was never written (its writer died in between) is taken over once
 * the lease has passed.
 */
export async function claimClientMsgId(w: Writer, message: StoredMessage): Promise<SendOutcome | undefined> {
  const key = [message.senderId, message.clientMsgId];
  const giveUpAt = Date.now() + 3 * w.leaseMs;
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    const claimed = await w.cql.lwt(
      `INSERT INTO ${table(w, "sent_messages")} (sender_id, client_msg_id, conversation_id, message_id, claimed_at) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS`,
      [...key, message.conversationId, message.messageId, new Date()],
    );
    if (claimed.applied) return undefined;
    const holder = claimed.row!;
    const original = await completeMessage(w, bigintOf(holder.conversation_id), bigintOf(holder.message_id));
    if (original !== undefined) return { ...original, duplicate: true, entries: [] };
    if (Date.now() > giveUpAt) throw new Error(`client message ${message.clientMsgId} is claimed but not stored`);
    if (Date.now() < (holder.claimed_at as Date).getTime() + w.leaseMs) {
      await sleep(pause);
      continue;
    }
    const takenOver = await w.cql.lwt(
      `UPDATE ${table(w, "sent_messages")} SET conversation_id = ?, message_id = ?, claimed_at = ? WHERE sender_id = ? AND client_msg_id = ? IF message_id = ?`,
      [message.conversationId, message.messageId, new Date(), ...key, holder.message_id],
    );
    if (takenOver.applied) return undefined;
  }
}

/** The original of a repeated (sender, clientMsgId), when one was stored: for a repeat that would now be refused. */
export async function originalOf(w: Writer, message: StoredMessage): Promise<SendOutcome | undefined> {
  const [holder] = await w.cql.read(`SELECT conversation_id, message_id FROM ${table(w, "sent_messages")} WHERE sender_id = ? AND client_msg_id = ?`, [
    message.senderId,
    message.clientMsgId,
  ]);
  if (holder === undefined) return undefined;
  const original = await completeMessage(w, bigintOf(holder.conversation_id), bigintOf(holder.message_id));
  return original === undefined ? undefined : { ...original, duplicate: true, entries: [] };
}

/** Drops this message's claim (its store failed before anything was written), so a retry is not a duplicate. */
export async function releaseClientMsgId(w: Writer, message: StoredMessage): Promise<void> {
  await w.cql.lwt(`DELETE FROM ${table(w, "sent_messages")} WHERE sender_id = ? AND client_msg_id = ? IF message_id = ?`, [
    message.senderId,
    message.clientMsgId,
    message.messageId,
  ]);
}

/** Whether a message with this id is stored in the conversation. */
export async function messageExists(w: Writer, conversationId: bigint, messageId: bigint): Promise<boolean> {
  const rows = await w.cql.read(`SELECT message_id FROM ${table(w, "messages")} WHERE conversation_id = ? AND month = ? AND message_id = ?`, [
    conversationId,
    monthOf(messageId),
    messageId,
  ]);
  return rows.length > 0;
}
