/**
 * The send procedures (run in the SQLite worker, each call one
 * transaction): append and appendBatch, the group commit that is the hot
 * path of the product. Only `import type` of main-thread modules here.
 */
import type { SqliteConnection } from "@parley/relational";
import type { StoredMessage } from "../../../ports.js";
import { uniqueSorted } from "../sql-rows.js";
import { InboxWriter } from "./inbox-writer.js";
import type { Duplicate, Refusal, SendResult, Stored } from "./results.js";
import { noteStored } from "./search-index.js";
import { claim, conversationExists, findOriginal, membersWithHeads, originalOf, storeMessage } from "./steps.js";

/**
 * One send. Without `recipients` they are the members now, and a sender
 * (other than 0) outside them is refused; with them the caller decides. A
 * missing conversation is refused either way. A repeat of a client id
 * answers with the original before any refusal, as the claim decides first.
 */
export function append(db: SqliteConnection, message: StoredMessage, recipients: readonly bigint[] | undefined): Stored | Duplicate | Refusal {
  const inbox = new InboxWriter(db);
  let to: bigint[];
  let refusal: Refusal | undefined;
  if (recipients !== undefined) {
    to = uniqueSorted(recipients);
    if (!conversationExists(db, message.conversationId)) refusal = "missing";
  } else {
    to = membersWithHeads(db, message.conversationId, inbox);
    // No members: a missing conversation, or a deleted group.
    if (to.length === 0 && !conversationExists(db, message.conversationId)) refusal = "missing";
    else if (message.senderId !== 0n && !to.includes(message.senderId)) refusal = "not_member";
  }
  if (refusal !== undefined) return (message.clientMsgId === "" ? undefined : findOriginal(db, message.senderId, message.clientMsgId)) ?? refusal;
  if (message.clientMsgId !== "" && !claim(db, message, to.includes(message.senderId) ? inbox.peek(message.senderId) : 0n)) return originalOf(db, message);
  const stored = storeMessage(db, inbox, message, to);
  noteStored(db, 1);
  return stored;
}

/**
 * Group commit: the messages in order, each as append() without recipients
 * would store it, in this one transaction. The adapter has already taken
 * out repeats of a (sender, clientMsgId) within the batch, so every message
 * here is new or a repeat of one stored before the batch.
 *
 * Statements per message: the claim, one entry per recipient and the
 * message row. Per conversation of the batch: one read of its members with
 * their inbox heads. Neither a head nor the conversation's activity is
 * written: a user's head is their newest entry's seq (see InboxWriter), a
 * conversation's activity its newest message (see listConversations). A
 * refused message writes nothing, so it holds no claim: a retry, once it
 * can succeed, is stored.
 */
export function appendBatch(db: SqliteConnection, messages: readonly StoredMessage[]): SendResult[] {
  const inbox = new InboxWriter(db);
  // Per conversation of the batch: its members (ascending), or null when it does not exist.
  const membersOf = new Map<bigint, bigint[] | null>();
  const results = new Array<SendResult>(messages.length);
  let stored = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const conversationId = message.conversationId;
    let members = membersOf.get(conversationId);
    if (members === undefined) {
      members = membersWithHeads(db, conversationId, inbox);
      if (members.length === 0 && !conversationExists(db, conversationId)) members = null;
      membersOf.set(conversationId, members);
    }
    const hasClientId = message.clientMsgId !== "";
    if (members === null || !members.includes(message.senderId)) {
      const original = hasClientId ? findOriginal(db, message.senderId, message.clientMsgId) : undefined;
      results[i] = original ?? (members === null ? "missing" : "not_member");
    } else if (hasClientId && !claim(db, message, inbox.peek(message.senderId))) {
      results[i] = originalOf(db, message);
    } else {
      results[i] = storeMessage(db, inbox, message, members);
      stored++;
    }
  }
  noteStored(db, stored);
  return results;
}
