import type { Cql } from "./cql.js";
import { inboxBucket, lastSeqOf } from "./buckets.js";
import { bigintOf, ENTRY_COLUMNS, type Row } from "./rows.js";
import { ENTRY_EDITED, ENTRY_KINDS, ENTRY_REACTED, ENTRY_READ, ENTRY_UNREACTED, type EntryRef, type InboxOps, type InboxRowRef } from "./seq-claim.js";

/**
 * Users' inboxes on Cassandra: rows keyed (user_id, bucket) and seq, the
 * head hints, and the two queries a seq claim needs (seq-claim.ts).
 */
export class CassandraInbox implements InboxOps {
  private readonly inboxTable: string;
  private readonly headTable: string;

  constructor(private readonly cql: Cql) {
    this.inboxTable = `${cql.keyspace}.inbox`;
    this.headTable = `${cql.keyspace}.inbox_heads`;
  }

  /** The user's rows after `afterSeq`, ascending; moves to the next bucket only past a full one (seqs are gap-free). */
  async rowsAfter(userId: bigint, afterSeq: bigint, limit: number): Promise<Row[]> {
    const found: Row[] = [];
    let after = afterSeq;
    while (found.length < limit) {
      const bucket = inboxBucket(after + 1n);
      const rows = await this.cql.read(`SELECT ${ENTRY_COLUMNS} FROM ${this.inboxTable} WHERE user_id = ? AND bucket = ? AND seq > ? LIMIT ?`, [
        userId,
        bucket,
        after,
        limit - found.length,
      ]);
      found.push(...rows);
      const last = rows.at(-1);
      if (last === undefined || bigintOf(last.seq) !== lastSeqOf(bucket)) break;
      after = bigintOf(last.seq);
    }
    return found;
  }

  async after(userId: bigint, afterSeq: bigint, limit: number): Promise<InboxRowRef[]> {
    return (await this.rowsAfter(userId, afterSeq, limit)).map((row) => ({ seq: bigintOf(row.seq), ref: toEntryRef(row) }));
  }

  async insertIfAbsent(userId: bigint, seq: bigint, ref: EntryRef): Promise<{ applied: true } | { applied: false; existing?: EntryRef }> {
    const { applied, row } = await this.cql.lwt(
      ref.emoji === undefined
        ? `INSERT INTO ${this.inboxTable} (user_id, bucket, seq, kind, conversation_id, message_id, reader_id, read_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`
        : `INSERT INTO ${this.inboxTable} (user_id, bucket, seq, kind, conversation_id, message_id, reader_id, read_at, emoji) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      [
        userId,
        inboxBucket(seq),
        seq,
        ref.kind,
        ref.conversationId,
        ref.messageId,
        ref.readerId ?? null,
        ref.readAt ?? null,
        ...(ref.emoji === undefined ? [] : [ref.emoji]),
      ],
    );
    if (applied) return { applied: true };
    return row?.kind === undefined || row.kind === null ? { applied: false } : { applied: false, existing: toEntryRef(row) };
  }

  /** Each user's head hint (0 when none): a seq at or below which every seq is taken. */
  async heads(users: readonly bigint[]): Promise<Map<bigint, bigint>> {
    const heads = await Promise.all(
      users.map(async (userId) => {
        const [row] = await this.cql.read(`SELECT head_seq FROM ${this.headTable} WHERE user_id = ?`, [userId]);
        return [userId, row === undefined ? 0n : bigintOf(row.head_seq)] as const;
      }),
    );
    return new Map(heads);
  }

  /**
   * Moves the head hint up to `seq`, never down. Best effort: readers go past
   * the head, so a head left behind (a lost race, a contention timeout) costs
   * a little reading, nothing else, and never fails the write that called it.
   */
  async advanceHead(userId: bigint, seq: bigint): Promise<void> {
    try {
      await this.tryAdvanceHead(userId, seq);
    } catch {
      // See above: the next claim or headSeq reads past it.
    }
  }

  private async tryAdvanceHead(userId: bigint, seq: bigint): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const moved = await this.cql.lwt(`UPDATE ${this.headTable} SET head_seq = ? WHERE user_id = ? IF head_seq < ?`, [seq, userId, seq]);
      const current = moved.row?.head_seq;
      if (moved.applied || (current !== null && current !== undefined)) return;
      // No head row yet: create it; if another writer just did, the next UPDATE sees theirs.
      const created = await this.cql.lwt(`INSERT INTO ${this.headTable} (user_id, head_seq) VALUES (?, ?) IF NOT EXISTS`, [userId, seq]);
      if (created.applied) return;
    }
  }

  /** The highest seq: the head hint, then whatever rows lie past it (a writer that died before moving the head). */
  async headSeq(userId: bigint): Promise<bigint> {
    let head = (await this.heads([userId])).get(userId) ?? 0n;
    for (;;) {
      const rows = await this.rowsAfter(userId, head, 1_000);
      const last = rows.at(-1);
      if (last === undefined) return head;
      head = bigintOf(last.seq);
      if (rows.length < 1_000) return head;
    }
  }
}

export function toEntryRef(row: Row): EntryRef {
  const kind = ENTRY_KINDS.find((k) => k === Number(row.kind));
  if (kind === undefined) throw new Error(`inbox row ${String(row.seq)} has unknown kind ${String(row.kind)}`);
  const ref: EntryRef = { kind, conversationId: bigintOf(row.conversation_id), messageId: bigintOf(row.message_id) };
  if (kind === ENTRY_READ || kind === ENTRY_EDITED || kind === ENTRY_REACTED || kind === ENTRY_UNREACTED) {
    ref.readerId = bigintOf(row.reader_id);
    ref.readAt = row.read_at as Date;
  }
  if (kind === ENTRY_REACTED || kind === ENTRY_UNREACTED) ref.emoji = String(row.emoji);
  return ref;
}
