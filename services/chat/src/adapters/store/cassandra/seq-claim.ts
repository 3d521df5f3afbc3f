import { setTimeout as sleep } from "node:timers/promises";

/**
 * Claiming a user's next seq with lightweight transactions
 * (docs/architecture.md, "Message store on Cassandra"). Pure logic over
 * InboxOps, so it is unit-tested without a server.
 *
 * Why seqs stay gap-free: a claim walks the user's rows upwards from a floor
 * below which every seq is taken, and tries `INSERT ... IF NOT EXISTS` only
 * at the seq right after the highest row it has seen; a conflict means that
 * seq is now taken too, so it tries the next one. Every claimed seq therefore
 * has its predecessor taken, and rows are never deleted.
 *
 * Why a repeat never makes a second entry: the walk compares each row it
 * passes with the entry it is claiming for, and a row that already holds it
 * is the answer. A writer whose insert timed out (outcome unknown) finds its
 * own row the same way.
 */

export const ENTRY_MESSAGE = 1;
export const ENTRY_READ = 2;
export const ENTRY_EDITED = 3;
export const ENTRY_DELETED = 4;
export const ENTRY_DELETED_FOR_USER = 5;
export const ENTRY_REACTED = 6;
export const ENTRY_UNREACTED = 7;
export const ENTRY_KINDS = [ENTRY_MESSAGE, ENTRY_READ, ENTRY_EDITED, ENTRY_DELETED, ENTRY_DELETED_FOR_USER, ENTRY_REACTED, ENTRY_UNREACTED] as const;

/** What an inbox row points at: a message, a member's read marker, or a message's edit or deletion (the codes of the SQL schema). */
export interface EntryRef {
  kind: (typeof ENTRY_KINDS)[number];
  conversationId: bigint;
  messageId: bigint;
  /** Read entries: who read, and when. Edited entries: who edited, and when (which tells one edit of a message from another). Reaction entries: who reacted, and when. */
  readerId?: bigint;
  readAt?: Date;
  /** Reaction entries: the emoji. */
  emoji?: string;
}

export interface InboxRowRef {
  seq: bigint;
  ref: EntryRef;
}

/** The two queries a claim needs, against one user's inbox. */
export interface InboxOps {
  /** The user's rows with seq above `afterSeq`, ascending, at most `limit` (across buckets). */
  after(userId: bigint, afterSeq: bigint, limit: number): Promise<InboxRowRef[]>;
  /** INSERT ... IF NOT EXISTS at (user, seq); when not applied, the row that holds the seq (when the server returned it). */
  insertIfAbsent(userId: bigint, seq: bigint, ref: EntryRef): Promise<{ applied: true } | { applied: false; existing?: EntryRef }>;
}

/** Thrown when a claim lost more races than `maxConflicts`: a hot inbox; the caller's retry starts again. */
export class SeqContention extends Error {
  override name = "SeqContention";
}

export interface ClaimOptions {
  /** Races lost before giving up (default 64). */
  maxConflicts?: number;
  /** Failed inserts (timeouts, Paxos contention: outcome unknown) tolerated before the error is rethrown (default 8). */
  maxErrors?: number;
  /** Waits before the next try after a failed insert (default: a random 0 to 10 ms times the failures so far, so dueling proposers part). */
  backoff?: (failures: number) => Promise<void>;
  /** Rows read per page of the walk (default 100). */
  pageSize?: number;
  /** Called before each insert; throws when the caller may no longer write (its lease on the message ran out). */
  beforeInsert?: () => void;
}

const jitter = (failures: number) => sleep(Math.random() * 10 * failures);

/**
 * The same entry: one message once per user, one read marker position once
 * per reader, one edit (by its time) once per user, one deletion of a
 * message (for everyone, or for the user) once per user, one reaction change
 * (by who, emoji and time) once per user.
 */
export function sameEntry(a: EntryRef, b: EntryRef): boolean {
  if (a.kind !== b.kind || a.conversationId !== b.conversationId || a.messageId !== b.messageId) return false;
  if (a.kind === ENTRY_READ) return a.readerId === b.readerId;
  if (a.kind === ENTRY_EDITED) return a.readAt?.getTime() === b.readAt?.getTime();
  if (a.kind === ENTRY_REACTED || a.kind === ENTRY_UNREACTED)
    return a.readerId === b.readerId && a.emoji === b.emoji && a.readAt?.getTime() === b.readAt?.getTime();
  return true;
}

/**
 * The user's seq for `ref`: the one it already holds above `floor`, or the
 * next free one, claimed. `floor` must be a seq at or below which every seq
 * is taken (0, or a head read earlier).
 */
export async function claimSeq(
  ops: InboxOps,
  userId: bigint,
  floor: bigint,
  ref: EntryRef,
  options: ClaimOptions = {},
): Promise<{ seq: bigint; existed: boolean }> {
  const { maxConflicts = 64, maxErrors = 8, pageSize = 100, backoff = jitter } = options;
  let after = floor;
  let conflicts = 0;
  let errors = 0;
  for (;;) {
    const rows = await ops.after(userId, after, pageSize);
    for (const row of rows) {
      if (sameEntry(row.ref, ref)) return { seq: row.seq, existed: true };
      after = row.seq;
    }
    if (rows.length === pageSize) continue;
    const seq = after + 1n;
    options.beforeInsert?.();
    let result: Awaited<ReturnType<InboxOps["insertIfAbsent"]>>;
    try {
      result = await ops.insertIfAbsent(userId, seq, ref);
    } catch (err) {
      // A timed-out LWT may or may not have been applied: the next walk finds out.
      if (++errors > maxErrors) throw err;
      await backoff(errors);
      continue;
    }
    if (result.applied) return { seq, existed: false };
    if (result.existing !== undefined && sameEntry(result.existing, ref)) return { seq, existed: true };
    if (++conflicts > maxConflicts) throw new SeqContention(`user ${userId}: lost ${conflicts} races for the next seq`);
  }
}
