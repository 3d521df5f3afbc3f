import type { Db } from "@parley/relational";
import { ConversationMissingError, NotAMemberError, type InboxEntry, type SendOutcome, type StoredMessage } from "../../ports.js";
import { copyMessage, toMessage, type MessageRow } from "./sql-rows.js";

type Outcome = SendOutcome | Error;

/** A row of parley_append_batch (append-batch-migration.ts says what each outcome means). */
type BatchRow = {
  outcome: "stored" | "duplicate" | "repeat" | "missing" | "not_member" | "lost";
  first_ord: number;
  sender_seq: string | null;
  user_ids: string[] | null;
  seqs: string[] | null;
} & { [K in keyof MessageRow]: MessageRow[K] | null };

/**
 * Group commit on Postgres: the whole batch in one statement, which is its
 * own transaction (so one round trip). Each message's outcome is what
 * append() would have given it alone, in batch order: the batch is one
 * sequence of appends, committed together. The SQL function does the work
 * and takes the locks in the order every writer takes them.
 */
export async function appendBatchInOneStatement(db: Db, messages: readonly StoredMessage[]): Promise<Outcome[]> {
  for (const m of messages) {
    if (m.system !== undefined || m.senderId === 0n) throw new Error("appendBatch takes user messages only; system messages go through append");
  }
  const { rows } = await db.query<BatchRow>(
    `SELECT * FROM parley_append_batch($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::timestamptz[])`,
    [
      messages.map((m) => String(m.senderId)),
      messages.map((m) => m.clientMsgId),
      messages.map((m) => String(m.conversationId)),
      messages.map((m) => String(m.messageId)),
      messages.map((m) => String(m.senderDeviceId)),
      messages.map((m) => m.text),
      messages.map((m) => m.createdAt.toISOString()),
    ],
  );
  if (rows.length !== messages.length) throw new Error(`parley_append_batch answered ${rows.length} rows for ${messages.length} messages`);
  const outcomes: Outcome[] = [];
  for (const [i, row] of rows.entries()) outcomes.push(toOutcome(row, messages[i]!, outcomes));
  return outcomes;
}

function toOutcome(row: BatchRow, message: StoredMessage, earlier: readonly Outcome[]): Outcome {
  switch (row.outcome) {
    case "stored": {
      const stored = copyMessage(message);
      const seqs = row.seqs ?? [];
      const entries: InboxEntry[] = (row.user_ids ?? []).map((userId, k) => ({
        userId: BigInt(userId),
        seq: BigInt(seqs[k]!),
        item: { kind: "message", message: stored },
      }));
      return { message: stored, senderSeq: BigInt(row.sender_seq ?? 0), duplicate: false, entries };
    }
    case "duplicate":
      return { message: toMessage(row as MessageRow), senderSeq: BigInt(row.sender_seq ?? 0), duplicate: true, entries: [] };
    case "repeat": {
      // Answered from the first occurrence in the batch, which comes earlier.
      const first = earlier[row.first_ord - 1];
      if (first === undefined) throw new Error(`parley_append_batch: repeat of message ${row.first_ord} out of order`);
      return first instanceof Error ? first : { message: first.message, senderSeq: first.senderSeq, duplicate: true, entries: [] };
    }
    case "missing":
      return new ConversationMissingError(`conversation ${message.conversationId} does not exist`);
    case "not_member":
      return new NotAMemberError(`user ${message.senderId} is not a member of conversation ${message.conversationId}`);
    case "lost":
      return new Error(`client message ${message.clientMsgId} is claimed but not stored`);
    default:
      throw new Error(`parley_append_batch: unknown outcome ${String(row.outcome)}`);
  }
}
