import { ConversationMissingError, quoteOf, type MessageKey, type QuotedMessage, type ReplyTarget } from "../../../ports.js";
import { monthOf } from "./buckets.js";
import { currentState, loadState } from "./conversations.js";
import type { Writer } from "./message-writes.js";
import { bigintOf } from "./rows.js";

/** Replies on Cassandra: what a reply names, for its sender, and the quotes a reader sees (a few single-partition reads each). */

const table = (w: Writer, name: string) => `${w.cql.keyspace}.${name}`;

async function quotedRow(w: Writer, conversationId: bigint, messageId: bigint) {
  const [row] = await w.cql.read(`SELECT sender_id, text, deleted_at FROM ${table(w, "messages")} WHERE conversation_id = ? AND month = ? AND message_id = ?`, [
    conversationId,
    monthOf(messageId),
    messageId,
  ]);
  return row === undefined
    ? undefined
    : { messageId, senderId: bigintOf(row.sender_id), text: String(row.text ?? ""), deleted: row.deleted_at !== null && row.deleted_at !== undefined };
}

export async function replyTarget(w: Writer, conversationId: bigint, messageId: bigint, userId: bigint): Promise<ReplyTarget> {
  const state = await currentState(w, conversationId).catch((err: unknown) => {
    if (err instanceof ConversationMissingError) return undefined;
    throw err;
  });
  if (state === undefined) return { kind: "no_conversation" };
  if (!state.roles.has(userId)) return { kind: "not_member" };
  const row = await quotedRow(w, conversationId, messageId);
  // A message before the sender's horizon is not theirs to see: as if it did not exist.
  if (row === undefined || messageId < (state.historyFrom.get(userId) ?? 0n)) return { kind: "no_message" };
  const blind = [...state.roles.keys()].filter((user) => (state.historyFrom.get(user) ?? 0n) > messageId);
  return { kind: "found", quote: quoteOf(row, 0n, false), blind };
}

export async function quotesOf(w: Writer, messages: readonly MessageKey[], viewerId: bigint): Promise<Map<bigint, QuotedMessage>> {
  const unique = [...new Map(messages.map((m) => [m.messageId, m])).values()];
  const found = await Promise.all(
    unique.map(async ({ conversationId, messageId }) => {
      const [row, state, hidden] = await Promise.all([
        quotedRow(w, conversationId, messageId),
        loadState(w, conversationId, false),
        w.cql.read(`SELECT hidden_at FROM ${table(w, "hidden_messages")} WHERE user_id = ? AND conversation_id = ? AND message_id = ?`, [
          viewerId,
          conversationId,
          messageId,
        ]),
      ]);
      return row === undefined ? undefined : ([messageId, quoteOf(row, state?.historyFrom.get(viewerId) ?? 0n, hidden.length > 0)] as const);
    }),
  );
  return new Map(found.filter((q) => q !== undefined));
}
