import type { SqliteConnection } from "@parley/relational";
import { ENTRY_MESSAGE, ENTRY_READ } from "../sql-rows.js";

// Statements built once: a template evaluated per call is a new string, which the connection's statement cache hashes anew every time.
const INSERT_MESSAGE_ENTRY = `INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id) VALUES (?, ?, ${ENTRY_MESSAGE}, ?, ?)`;
const INSERT_READ_ENTRY = `INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id, reader_id, read_at) VALUES (?, ?, ${ENTRY_READ}, ?, ?, ?, ?)`;

/**
 * Writes inbox entries for one procedure call and gives them their seqs.
 *
 * A user's head (their highest seq) is the largest seq of their inbox
 * entries, read from the inbox's own key (a seek to the end of the user's
 * range) once per call, or along with the members query, then counted up
 * here. Nothing else records it: a send writes no head row, one page fewer
 * per recipient in every commit. The call runs in one transaction that
 * nothing else interleaves with (the worker runs one call at a time), so
 * counting in memory is exact, and a rolled-back call leaves no entry, so
 * the head is as it was: seqs stay gap-free. Inbox entries are never
 * deleted; anything that ever prunes them must keep each user's newest.
 */
export class InboxWriter {
  private readonly heads = new Map<bigint, bigint>();

  constructor(private readonly db: SqliteConnection) {}

  /** A head read with other rows (null when the user has no entries yet); ignored once known. */
  knows(userId: bigint, head: bigint | null): void {
    if (!this.heads.has(userId)) this.heads.set(userId, head ?? 0n);
  }

  /** The seq the user's next entry will get. */
  peek(userId: bigint): bigint {
    return this.head(userId) + 1n;
  }

  messageEntry(userId: bigint, conversationId: bigint, messageId: bigint): bigint {
    const seq = this.take(userId);
    this.db.run(INSERT_MESSAGE_ENTRY, [userId, seq, conversationId, messageId]);
    return seq;
  }

  /** An entry of `kind` (a message's edit or deletion) pointing at the message, as message entries do. */
  changeEntry(userId: bigint, kind: number, conversationId: bigint, messageId: bigint): bigint {
    const seq = this.take(userId);
    this.db.run("INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id) VALUES (?, ?, ?, ?, ?)", [userId, seq, kind, conversationId, messageId]);
    return seq;
  }

  /** A reaction entry (kind 6 added, 7 removed) pointing at the message, with who reacted, the emoji and when. */
  reactionEntry(userId: bigint, kind: number, conversationId: bigint, messageId: bigint, actorId: bigint, emoji: string, at: number): bigint {
    const seq = this.take(userId);
    this.db.run("INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id, actor_id, emoji, acted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
      userId,
      seq,
      kind,
      conversationId,
      messageId,
      actorId,
      emoji,
      at,
    ]);
    return seq;
  }

  readEntry(userId: bigint, conversationId: bigint, messageId: bigint, readerId: bigint, readAt: number): bigint {
    const seq = this.take(userId);
    this.db.run(INSERT_READ_ENTRY, [userId, seq, conversationId, messageId, readerId, readAt]);
    return seq;
  }

  private take(userId: bigint): bigint {
    const seq = this.head(userId) + 1n;
    this.heads.set(userId, seq);
    return seq;
  }

  private head(userId: bigint): bigint {
    let head = this.heads.get(userId);
    if (head === undefined) {
      head = headOf(this.db, userId);
      this.heads.set(userId, head);
    }
    return head;
  }
}

/** The user's newest seq, 0 when they have no entries. */
export function headOf(db: SqliteConnection, userId: bigint): bigint {
  return db.get<{ head: bigint | null }>("SELECT max(seq) AS head FROM inbox WHERE user_id = ?", [userId])?.head ?? 0n;
}
