import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ConversationMissingError, NotAMemberError, type MessageStore, type SendOutcome } from "../src/ports.js";
import { draft, messageOf, newId, range, seqsOf, storeUnderTest, type OpenedMessageStore } from "./message-store-fixtures.js";

const outcome = (x: SendOutcome | Error | undefined): SendOutcome => {
  if (x === undefined || x instanceof Error) throw new Error(`expected an outcome, got ${String(x)}`);
  return x;
};

/** appendBatch (group commit): each message as append() would store it, many per transaction. */
export function describeMessageStoreBatchContract(name: string, open: () => Promise<OpenedMessageStore>): void {
  describe(`message store appendBatch (${name})`, () => {
    const subject = storeUnderTest(open);
    let store: MessageStore;
    before(() => {
      store = subject.store;
    });

    const direct = () => subject.direct();

    it("stores every message with gap-free seqs per user, in batch order", async () => {
      const one = await direct();
      const two = await direct();
      const before = await store.append(draft(one.id, one.a));
      const batch = [draft(one.id, one.a), draft(two.id, two.b), draft(one.id, one.b), draft(one.id, one.a)];
      const results = (await store.appendBatch(batch)).map(outcome);
      assert.deepEqual(
        results.map((r) => r.duplicate),
        [false, false, false, false],
      );
      assert.deepEqual(
        results.map((r) => r.message.messageId),
        batch.map((m) => m.messageId),
      );
      assert.deepEqual(
        results.map((r) => r.senderSeq),
        [2n, 1n, 3n, 4n],
      );
      assert.deepEqual(seqsOf(await store.inbox(one.a, 0n, 10)), range(1, 4));
      const inboxOfB = (await store.inbox(one.b, 0n, 10)).map((e) => messageOf(e)?.messageId);
      assert.deepEqual(inboxOfB, [before.message.messageId, batch[0]!.messageId, batch[2]!.messageId, batch[3]!.messageId]);
      assert.deepEqual(
        results[1]!.entries.map((e) => e.seq),
        [1n, 1n],
      );
      const history = (await store.history(one.id, undefined, 10)).map((m) => m.messageId);
      assert.deepEqual(history, [batch[3]!, batch[2]!, batch[0]!].map((m) => m.messageId).concat(before.message.messageId));
    });

    it("answers repeats of a client id, in the batch and from before it, with the original", async () => {
      const { a, id } = await direct();
      const earlier = await store.append(draft(id, a, { clientMsgId: "c-early" }));
      const first = draft(id, a, { clientMsgId: "c-1" });
      const results = await store.appendBatch([first, draft(id, a, { clientMsgId: "c-early" }), draft(id, a, { clientMsgId: "c-1" })]);
      const [stored, old, repeat] = results.map(outcome);
      assert.equal(stored!.duplicate, false);
      assert.deepEqual([old!.duplicate, old!.message.messageId, old!.senderSeq, old!.entries], [true, earlier.message.messageId, earlier.senderSeq, []]);
      assert.deepEqual([repeat!.duplicate, repeat!.message.messageId, repeat!.senderSeq, repeat!.entries], [true, first.messageId, stored!.senderSeq, []]);
      assert.equal((await store.inbox(a, 0n, 10)).length, 2);
    });

    it("refuses a non-member and a missing conversation without affecting the rest, and frees their client ids", async () => {
      const { a, id } = await direct();
      const stranger = newId();
      const refused = draft(id, stranger, { clientMsgId: "c-x" });
      const results = await store.appendBatch([refused, draft(newId(), a), draft(id, a)]);
      assert.ok(results[0] instanceof NotAMemberError);
      assert.ok(results[1] instanceof ConversationMissingError);
      assert.equal(outcome(results[2]).duplicate, false);
      assert.deepEqual(await store.inbox(stranger, 0n, 10), []);
      // The refused send left no claim: in a conversation of theirs, the same client id stores a new message.
      const own = await store.openDirect(stranger, newId(), newId());
      const later = await store.append(draft(own.id, stranger, { clientMsgId: "c-x" }));
      assert.equal(later.duplicate, false);
    });

    it("keeps seqs gap-free under concurrent batches and single appends for the same users", async () => {
      const { a, b, id } = await direct();
      const work = Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0 ? store.appendBatch(Array.from({ length: 5 }, () => draft(id, i % 4 === 0 ? a : b))) : store.append(draft(id, a)),
      );
      await Promise.all(work);
      assert.deepEqual(seqsOf(await store.inbox(a, 0n, 100)), range(1, 30));
      assert.deepEqual(seqsOf(await store.inbox(b, 0n, 100)), range(1, 30));
    });

    it("answers a repeat of a refused message with the same refusal", async () => {
      const { id } = await direct();
      const stranger = newId();
      const results = await store.appendBatch([draft(id, stranger, { clientMsgId: "c-r" }), draft(id, stranger, { clientMsgId: "c-r" })]);
      assert.ok(results[0] instanceof NotAMemberError);
      assert.ok(results[1] instanceof NotAMemberError);
    });

    it("moves a conversation's activity to its newest stored message, never to a refused one", async () => {
      const { a, id } = await direct();
      const stored = draft(id, a);
      const results = await store.appendBatch([stored, draft(id, newId())]);
      assert.ok(results[1] instanceof NotAMemberError);
      const [summary] = await store.listConversations(a, 10);
      assert.deepEqual([summary?.lastActivityId, summary?.lastMessage?.messageId], [stored.messageId, stored.messageId]);
    });

    it("keeps every user's seqs gap-free when batches and single appends over overlapping conversations run at once", async () => {
      const users = Array.from({ length: 5 }, () => newId());
      const pairs = users.flatMap((a, i) => users.slice(i + 1).map((b) => [a, b] as const));
      const conversations = await Promise.all(pairs.map(async ([a, b]) => ({ a, b, id: (await store.openDirect(a, b, newId())).id })));
      // Each batch walks the conversations from its own starting point, so batches meet their shared rows in different orders.
      const pick = (task: number, k: number) => {
        const c = conversations[(task * 7 + k * 3) % conversations.length]!;
        return draft(c.id, (task + k) % 2 === 0 ? c.a : c.b);
      };
      const work = Array.from({ length: 16 }, (_, task) => (task % 4 === 3 ? [pick(task, 0)] : Array.from({ length: 6 }, (_, k) => pick(task, k))));
      const results = await Promise.all(work.map((batch) => (batch.length === 1 ? store.append(batch[0]!) : store.appendBatch(batch))));
      for (const result of results.flat()) assert.equal(outcome(result).duplicate, false);
      for (const user of users) {
        const sent = work.flat().filter((m) => conversations.some((c) => c.id === m.conversationId && (c.a === user || c.b === user)));
        const inbox = await store.inbox(user, 0n, 1000);
        assert.deepEqual(seqsOf(inbox), range(1, sent.length), `user ${user} has gap-free seqs`);
        const received = inbox.map((e) => messageOf(e).messageId).sort((x, y) => (x < y ? -1 : 1));
        assert.deepEqual(
          received,
          sent.map((m) => m.messageId).sort((x, y) => (x < y ? -1 : 1)),
        );
      }
    });

    it("stores nothing of a batch whose transaction fails", async () => {
      const { a, id } = await direct();
      const taken = draft(id, a);
      await store.append(taken);
      const fresh = draft(id, a);
      await assert.rejects(store.appendBatch([fresh, draft(id, a, { messageId: taken.messageId, clientMsgId: "other" })]));
      assert.equal((await store.inbox(a, 0n, 10)).length, 1);
      const retried = await store.append(fresh);
      assert.equal(retried.duplicate, false);
    });
  });
}
