import assert from "node:assert/strict";
import { after, before } from "node:test";
import type { InboxEntry, MessageStore, StoredMessage } from "../src/ports.js";

export interface OpenedMessageStore {
  store: MessageStore;
  cleanup(): Promise<void>;
  /** The text column of a message's stored row read straight from the database (undefined: no row), so a test can see erasure. */
  storedText?(conversationId: bigint, messageId: bigint): Promise<string | undefined>;
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

/**
 * The store a contract suite tests: opened before the suite, cleaned up
 * after it (call inside describe()). `direct()` opens a new direct
 * conversation between two new users.
 */
export function storeUnderTest(open: () => Promise<OpenedMessageStore>) {
  let opened: OpenedMessageStore | undefined;
  before(async () => {
    opened = await open();
  });
  after(() => opened?.cleanup());
  const subject = {
    get store(): MessageStore {
      if (opened === undefined) throw new Error("the store is opened in before()");
      return opened.store;
    },
    storedText(conversationId: bigint, messageId: bigint): Promise<string | undefined> {
      if (opened?.storedText === undefined) throw new Error("this adapter's factory gives no storedText: the erasure cannot be checked");
      return opened.storedText(conversationId, messageId);
    },
    async direct() {
      const [a, b] = [newId(), newId()];
      const conversation = await subject.store.openDirect(a, b, newId());
      return { a, b, conversation, id: conversation.id };
    },
  };
  return subject;
}
