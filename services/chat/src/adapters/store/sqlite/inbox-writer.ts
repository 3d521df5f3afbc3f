import type { SqliteConnection } from "@parley/relational";
import { ENTRY_MESSAGE, ENTRY_READ } from "../sql-rows.js";

/**
 * Writes inbox entries for one procedure call and gives them their seqs.
 *
 * Each user's head (their highest seq) is read once per call, or comes
 * along with the members query, then counted up here and written back once
 * by finish(): a batch that gives one user many entries updates their head
 * row once. The call runs in one transaction that nothing else interleaves
 * with (the worker runs one call at a time), so counting in memory is exact,
 * and a rolled-back call leaves the head as it was: seqs stay gap-free.
 * A writer that is never finished leaves the heads behind, and the next
 * entry for such a user collides with an existing (user_id, seq) key:
 * a loud failure, never a silently reused seq.
 */
export class InboxWriter {
  private readonly heads = new Map<bigint, bigint>();
  private readonly moved = new Set<bigint>();

  constructor(private readonly db: SqliteConnection) {}

  /** A head read with other rows (a LEFT JOIN on inbox_heads: null when the user has no entries yet); ignored once known. */
  knows(userId: bigint, head: bigint | null): void {
    if (!this.heads.has(userId)) this.heads.set(userId, head ?? 0n);
  }

  /** The seq the user's next entry will get. */
  peek(userId: bigint): bigint {
    return this.head(userId) + 1n;
  }

  messageEntry(userId: bigint, conversationId: bigint, messageId: bigint): bigint {
    const seq = this.take(userId);
    this.db.run(`INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id) VALUES (?, ?, ${ENTRY_MESSAGE}, ?, ?)`, [
      userId,
      seq,
      conversationId,
      messageId,
    ]);
    return seq;
  }

  readEntry(userId: bigint, conversationId: bigint, messageId: bigint, readerId: bigint, readAt: number): bigint {
    const seq = this.take(userId);
    this.db.run(`INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id, reader_id, read_at) VALUES (?, ?, ${ENTRY_READ}, ?, ?, ?, ?)`, [
      userId,
      seq,
      conversationId,
      messageId,
      readerId,
      readAt,
    ]);
    return seq;
  }

  /** Writes the heads this call moved; the last step of every call that wrote entries. */
  finish(): void {
    for (const userId of this.moved) {
      this.db.run("INSERT INTO inbox_heads (user_id, head_seq) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET head_seq = excluded.head_seq", [
        userId,
        this.heads.get(userId)!,
      ]);
    }
    this.moved.clear();
  }

  private take(userId: bigint): bigint {
    const seq = this.head(userId) + 1n;
    this.heads.set(userId, seq);
    this.moved.add(userId);
    return seq;
  }

  private head(userId: bigint): bigint {
    let head = this.heads.get(userId);
    if (head === undefined) {
      head = this.db.get<{ head_seq: bigint }>("SELECT head_seq FROM inbox_heads WHERE user_id = ?", [userId])?.head_seq ?? 0n;
      this.heads.set(userId, head);
    }
    return head;
  }
}
