import type { InboxEntry, InboxItem, SendOutcome, StoredMessage } from "../../../ports.js";
import { copyMessage } from "../sql-rows.js";

/**
 * What the procedures send back to the adapter (structured clone, so plain
 * data only: no Error objects, no class instances). Stored sends come back
 * as their recipients and seqs alone: the adapter already holds the message,
 * so it is not copied back across threads.
 */

/** A stored message's recipients, ascending by user id, and each one's new seq, in the same order. */
export interface Stored {
  users: bigint[];
  seqs: bigint[];
}

/** A repeat of (sender, clientMsgId): the original message and the sender's seq of it. */
export interface Duplicate {
  duplicate: StoredMessage;
  senderSeq: bigint;
}

/** Why a send was refused without writing anything. */
export type Refusal = "missing" | "not_member";

export type SendResult = Stored | Duplicate | Refusal;

export function isDuplicate(result: SendResult): result is Duplicate {
  return typeof result === "object" && "duplicate" in result;
}

/** The outcome of `message` from what the procedure reported; the message is copied so the caller's object stays theirs. */
export function toOutcome(message: StoredMessage, result: Stored | Duplicate): SendOutcome {
  if ("duplicate" in result) return { message: result.duplicate, senderSeq: result.senderSeq, duplicate: true, entries: [] };
  const stored = copyMessage(message);
  const item: InboxItem = { kind: "message", message: stored };
  const entries: InboxEntry[] = new Array(result.users.length);
  let senderSeq = 0n;
  for (let i = 0; i < entries.length; i++) {
    const userId = result.users[i]!;
    const seq = result.seqs[i]!;
    entries[i] = { userId, seq, item };
    if (userId === message.senderId) senderSeq = seq;
  }
  return { message: stored, senderSeq, duplicate: false, entries };
}

/**
 * A canonical text of a conversation record: updateGroup applies a change
 * only while the group still reads as it did when decide() saw it.
 */
export function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
}
