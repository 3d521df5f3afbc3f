import type { Db } from "@parley/relational";
import type { Logger } from "@parley/runtime";
import type { DeliveryOutbox, EntryKey } from "../../ports.js";

/** How long handed-on entries wait to be deleted together; far below any overdue age. */
const FLUSH_MS = 50;
/** A flush deletes at most this many rows in one statement. */
const FLUSH_MAX = 2_000;

/**
 * The delivery outbox on Postgres (chat migration 4 writes its rows).
 * Handed-on entries are deleted in batches, one statement every FLUSH_MS,
 * so the outbox costs each message one row insert (in the storing
 * transaction) and a share of one delete. A delete that fails leaves its
 * rows to be claimed as overdue: the entries are delivered again, which
 * devices ignore, and nothing is lost.
 */
export class SqlDeliveryOutbox implements DeliveryOutbox {
  private users: string[] = [];
  private seqs: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  handedOn(key: EntryKey): void {
    this.users.push(String(key.userId));
    this.seqs.push(String(key.seq));
    if (this.users.length >= FLUSH_MAX) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  async claimOverdue(overdueMs: number, limit: number): Promise<EntryKey[]> {
    // SKIP LOCKED: processes sweeping at once split the overdue rows instead of claiming the same ones.
    const { rows } = await this.db.query<{ user_id: string; seq: string }>(
      `UPDATE delivery_outbox o SET claimed_at = now()
       FROM (SELECT user_id, seq FROM delivery_outbox WHERE claimed_at < now() - make_interval(secs => $1::double precision / 1000)
             ORDER BY claimed_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
       WHERE o.user_id = due.user_id AND o.seq = due.seq
       RETURNING o.user_id, o.seq`,
      [overdueMs, limit],
    );
    return rows.map((row) => ({ userId: BigInt(row.user_id), seq: BigInt(row.seq) }));
  }

  async close(): Promise<void> {
    this.flush();
    await this.flushing;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.users.length === 0) return;
    const users = this.users;
    const seqs = this.seqs;
    this.users = [];
    this.seqs = [];
    this.flushing = this.flushing.then(() =>
      this.db
        .query(
          "DELETE FROM delivery_outbox o USING unnest($1::bigint[], $2::bigint[]) AS done(user_id, seq) WHERE o.user_id = done.user_id AND o.seq = done.seq",
          [users, seqs],
        )
        .then(
          () => undefined,
          (err: unknown) => this.logger.warn({ err, entries: users.length }, "could not clear handed-on entries from the outbox; they will be delivered again"),
        ),
    );
  }
}
