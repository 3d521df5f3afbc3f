import assert from "node:assert/strict";
import type { InboxEntry, MessageStore, StoredMessage } from "../src/store/ports.js";

export interface OpenedMessageStore {
  store: MessageStore;
  cleanup(): Promise<void>;
}

/** One counter for users, conversations and messages: increasing like Snowflake ids, fresh for every test. */
let lastId = 1_000n;
export const newId = () => ++lastId;
export const EPOCH = Date.UTC(2025, 0, 1);

/** A message with fresh ids; its createdAt is derived from its id, as a Snowflake's would be. */
export function draft(conversationId: bigint, senderId: bigint, fields: Partial<StoredMessage> = {}): StoredMessage {
  const messageId = fields.messageId ?? newId();
  return {
    messageId,
    conversationId,
    senderId,
    senderDeviceId: senderId * 10n + 1n,
    clientMsgId: `client-${messageId}`,
    text: `message ${messageId}`,
    createdAt: new Date(EPOCH + Number(messageId)),
    ...fields,
  };
}

/** A group's system message: sender 0, no client id, a payload. */
export const systemDraft = (conversationId: bigint) =>
  draft(conversationId, 0n, { senderDeviceId: 0n, clientMsgId: "", text: "", system: new Uint8Array([7]) });

/** What a domain check throws from decide(). */
export class TooManyMembers extends Error {}

export const seqsOf = (entries: InboxEntry[]) => entries.map((entry) => entry.seq);
export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));
export const messageOf = (entry: InboxEntry | undefined) => {
  assert.equal(entry?.item.kind, "message");
  return entry.item.message;
};
