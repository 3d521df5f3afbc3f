import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { MessageStore, StoredMessage } from "../src/ports.js";
import { draft, messageOf, newId, range, seqsOf, storeUnderTest, type OpenedMessageStore } from "./message-store-fixtures.js";

export type { OpenedMessageStore };

/**
 * The message store contract: every adapter (Postgres and the embedded SQLite,
 * Cassandra) must pass it. `open` is called once per suite; every test uses
 * fresh ids, so tests share the store without seeing each other.
 */
export function describeMessageStoreContract(name: string, open: () => Promise<OpenedMessageStore>): void {
  describe(`message store (${name})`, () => {
    const subject = storeUnderTest(open);
    let store: MessageStore;
    before(() => {
      store = subject.store;
    });

    const direct = () => subject.direct();
    const send = (conversationId: bigint, senderId: bigint, recipients: bigint[], fields: Partial<StoredMessage> = {}) =>
      store.append(draft(conversationId, senderId, fields), recipients);

    describe("openDirect", () => {
      it("creates the pair's conversation once, whichever user opens it", async () => {
        const [a, b, id] = [newId(), newId(), newId()];
        const first = await store.openDirect(b, a, id);
        assert.equal(first.id, id);
        assert.equal(first.kind, "direct");
        assert.equal(first.name, "");
        assert.deepEqual(
          first.members.map((m) => [m.userId, m.role, m.readMessageId]),
          [
            [a, "member", 0n],
            [b, "member", 0n],
          ],
        );
        assert.deepEqual(await store.openDirect(a, b, newId()), first);
        assert.deepEqual(await store.openDirect(b, a, newId()), first);
        assert.deepEqual(await store.getConversation(id), first);
      });

      it("keeps one conversation per pair of users", async () => {
        const [a, b, c] = [newId(), newId(), newId()];
        const ab = await store.openDirect(a, b, newId());
        const ac = await store.openDirect(a, c, newId());
        assert.notEqual(ab.id, ac.id);
        assert.deepEqual(
          ac.members.map((m) => m.userId),
          [a, c],
        );
      });

      it("returns one conversation to many concurrent openers of a pair", async () => {
        const [a, b] = [newId(), newId()];
        const candidates = Array.from({ length: 10 }, () => newId());
        const opened = await Promise.all(candidates.map((id, i) => (i % 2 === 0 ? store.openDirect(a, b, id) : store.openDirect(b, a, id))));
        const ids = new Set(opened.map((c) => c.id));
        assert.equal(ids.size, 1);
        assert.ok(candidates.includes(opened[0]!.id));
        assert.equal((await store.getConversation(opened[0]!.id))?.members.length, 2);
      });

      it("returns undefined for an unknown conversation", async () => {
        assert.equal(await store.getConversation(newId()), undefined);
      });
    });

    describe("append", () => {
      it("stores the message once and gives every recipient an entry with seqs 1, 2, 3", async () => {
        const { a, b, id } = await direct();
        const outcomes = [];
        for (let i = 0; i < 3; i++) outcomes.push(await send(id, a, [b, a, b]));
        outcomes.forEach((outcome, i) => {
          assert.equal(outcome.duplicate, false);
          assert.equal(outcome.senderSeq, BigInt(i + 1));
          assert.deepEqual(
            outcome.entries.map((e) => [e.userId, e.seq]),
            [
              [a, BigInt(i + 1)],
              [b, BigInt(i + 1)],
            ],
          );
          for (const entry of outcome.entries) assert.deepEqual(messageOf(entry), outcome.message);
        });
        const messages = outcomes.map((o) => o.message);
        assert.deepEqual(await store.history(id, undefined, 10), messages.toReversed());
        const inbox = await store.inbox(b, 0n, 10);
        assert.deepEqual(seqsOf(inbox), [1n, 2n, 3n]);
        assert.deepEqual(inbox.map(messageOf), messages);
      });

      it("returns the original message and seq for a repeated client message id, writing nothing", async () => {
        const { a, b, id } = await direct();
        const original = await send(id, a, [a, b]);
        await send(id, a, [a, b]);
        const retry = await send(id, a, [a, b], { clientMsgId: original.message.clientMsgId, text: "edited in the retry" });
        assert.equal(retry.duplicate, true);
        assert.deepEqual(retry.message, original.message);
        assert.equal(retry.senderSeq, 1n);
        assert.deepEqual(retry.entries, []);
        assert.equal((await store.history(id, undefined, 10)).length, 2);
        assert.equal(await store.headSeq(a), 2n);
        assert.equal(await store.headSeq(b), 2n);
      });

      it("stores exactly one of 10 concurrent appends of one client message id", async () => {
        const { a, b, id } = await direct();
        const outcomes = await Promise.all(Array.from({ length: 10 }, () => send(id, a, [a, b], { clientMsgId: "same-key" })));
        assert.equal(outcomes.filter((o) => !o.duplicate).length, 1);
        const stored = outcomes.find((o) => !o.duplicate)!;
        for (const outcome of outcomes) {
          assert.deepEqual(outcome.message, stored.message);
          assert.equal(outcome.senderSeq, 1n);
        }
        assert.deepEqual(await store.history(id, undefined, 20), [stored.message]);
        assert.equal(await store.headSeq(a), 1n);
        assert.equal(await store.headSeq(b), 1n);
      });

      it("gives each recipient the next gap-free seq under concurrent sends", async () => {
        const [a, b, c] = [newId(), newId(), newId()];
        const ab = await store.openDirect(a, b, newId());
        const ac = await store.openDirect(a, c, newId());
        const outcomes = await Promise.all(
          Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? send(ab.id, i % 4 === 0 ? a : b, [a, b]) : send(ac.id, i % 4 === 1 ? a : c, [c, a]))),
        );
        for (const [user, count] of [
          [a, 50],
          [b, 25],
          [c, 25],
        ] as const) {
          const inbox = await store.inbox(user, 0n, 100);
          assert.deepEqual(seqsOf(inbox), range(1, count), `seqs of user ${user}`);
          assert.equal(new Set(inbox.map((e) => messageOf(e).messageId)).size, count);
          assert.equal(await store.headSeq(user), BigInt(count));
          // Each acknowledged seq names the entry that holds that very message.
          for (const outcome of outcomes) {
            const entry = outcome.entries.find((e) => e.userId === user);
            if (entry) assert.equal(messageOf(inbox[Number(entry.seq) - 1]).messageId, outcome.message.messageId);
          }
        }
      });

      it("leaves no gap in any seq when an append fails", async () => {
        const { a, b, id } = await direct();
        const first = await send(id, a, [a, b]);
        const lost = draft(newId(), a);
        await assert.rejects(store.append(lost, [a, b]));
        await assert.rejects(send(id, b, [a, b], { messageId: first.message.messageId }));
        const next = await send(id, a, [a, b]);
        assert.equal(next.senderSeq, 2n);
        assert.deepEqual(seqsOf(next.entries), [2n, 2n]);
        assert.deepEqual(seqsOf(await store.inbox(b, 0n, 10)), [1n, 2n]);
        // The failed send left no de-duplication claim behind: its retry is stored.
        const retried = await store.append({ ...lost, conversationId: id }, [a, b]);
        assert.equal(retried.duplicate, false);
        assert.equal(retried.senderSeq, 3n);
      });

      it("round-trips 100,000 characters of text, emoji included, exactly", async () => {
        const { a, b, id } = await direct();
        const text = Array.from("Grüße 👋🏽 世界 🇫🇷 e\u0301 ".repeat(10_000)).slice(0, 100_000).join("");
        assert.equal(Array.from(text).length, 100_000);
        const sent = await send(id, a, [a, b], { text });
        const [stored] = await store.history(id, undefined, 1);
        assert.equal(stored?.text, text);
        assert.equal(messageOf((await store.inbox(b, 0n, 1))[0]).text, text);
        assert.deepEqual(stored, sent.message);
      });

      it("round-trips a system message's payload bytes and never de-duplicates an empty client id", async () => {
        const { a, b, id } = await direct();
        const system = new Uint8Array([0, 1, 2, 127, 128, 254, 255, 0, 10, 13, 92]);
        const outcomes = [
          await send(id, 0n, [a, b], { senderDeviceId: 0n, clientMsgId: "", text: "", system }),
          await send(id, 0n, [a, b], { senderDeviceId: 0n, clientMsgId: "", text: "", system: new Uint8Array() }),
        ];
        assert.deepEqual(
          outcomes.map((o) => [o.duplicate, o.senderSeq]),
          [
            [false, 0n],
            [false, 0n],
          ],
        );
        const history = await store.history(id, undefined, 10);
        assert.deepEqual(history, outcomes.map((o) => o.message).toReversed());
        assert.deepEqual(history[1]?.system, system);
        assert.deepEqual(history[0]?.system, new Uint8Array());
        assert.deepEqual(messageOf((await store.inbox(a, 0n, 1))[0]).system, system);
        const plain = await send(id, a, [a, b]);
        assert.equal("system" in plain.message, false);
        assert.equal("system" in (await store.history(id, undefined, 1))[0]!, false);
      });
    });

    describe("history", () => {
      const fiveMessages = async () => {
        const { a, b, id } = await direct();
        const sent: StoredMessage[] = [];
        for (let i = 0; i < 5; i++) sent.push((await send(id, i % 2 === 0 ? a : b, [a, b])).message);
        return { id, sent };
      };

      it("pages backwards from the newest message by limit and before", async () => {
        const { id, sent } = await fiveMessages();
        const [m1, m2, m3, m4, m5] = sent as [StoredMessage, StoredMessage, StoredMessage, StoredMessage, StoredMessage];
        assert.deepEqual(await store.history(id, undefined, 2), [m5, m4]);
        assert.deepEqual(await store.history(id, m4.messageId, 2), [m3, m2]);
        assert.deepEqual(await store.history(id, m2.messageId, 2), [m1]);
        assert.deepEqual(await store.history(id, m1.messageId, 2), []);
      });

      it("stops at the notBeforeMessageId horizon, which it includes", async () => {
        const { id, sent } = await fiveMessages();
        assert.deepEqual(await store.history(id, undefined, 10, sent[2]!.messageId), sent.slice(2).toReversed());
        assert.deepEqual(await store.history(id, sent[3]!.messageId, 10, sent[2]!.messageId), [sent[2]]);
      });

      it("returns nothing for an unknown conversation", async () => {
        assert.deepEqual(await store.history(newId(), undefined, 10), []);
      });
    });

    describe("inbox", () => {
      it("pages forward by seq with each entry's full message", async () => {
        const { a, b, id } = await direct();
        const sent: StoredMessage[] = [];
        for (let i = 0; i < 5; i++) sent.push((await send(id, a, [a, b])).message);
        const first = await store.inbox(b, 0n, 2);
        assert.deepEqual(first, [
          { userId: b, seq: 1n, item: { kind: "message", message: sent[0] } },
          { userId: b, seq: 2n, item: { kind: "message", message: sent[1] } },
        ]);
        assert.deepEqual((await store.inbox(b, 2n, 2)).map(messageOf), sent.slice(2, 4));
        assert.deepEqual(seqsOf(await store.inbox(b, 4n, 2)), [5n]);
        assert.deepEqual(await store.inbox(b, 5n, 2), []);
      });

      it("reports the head seq, 0 for a user without entries", async () => {
        const { a, b, id } = await direct();
        assert.equal(await store.headSeq(a), 0n);
        await send(id, a, [a, b]);
        await send(id, b, [a, b]);
        assert.equal(await store.headSeq(a), 2n);
        assert.equal(await store.headSeq(newId()), 0n);
      });

      it("answers many head seqs asked at once (a reconnect storm) each with its own user's, the same user twice included", async () => {
        const { a, b, id } = await direct();
        await send(id, a, [a, b]);
        await send(id, a, [a, b]);
        await send(id, b, [a, b]);
        const nobody = newId();
        assert.deepEqual(await Promise.all([a, nobody, b, a].map((user) => store.headSeq(user))), [3n, 0n, 3n, 3n]);
      });
    });

    describe("cursors", () => {
      it("never moves a device cursor backwards", async () => {
        const [user, phone, laptop] = [newId(), newId(), newId()];
        assert.equal(await store.getCursor(user, phone), 0n);
        assert.equal(await store.setCursor(user, phone, 5n), 5n);
        assert.equal(await store.setCursor(user, phone, 3n), 5n);
        assert.equal(await store.getCursor(user, phone), 5n);
        assert.equal(await store.setCursor(user, phone, 8n), 8n);
        assert.equal(await store.getCursor(user, laptop), 0n);
      });

      it("answers many cursors asked at once (a reconnect storm) each with its own device's", async () => {
        const [user, other, phone, laptop] = [newId(), newId(), newId(), newId()];
        await store.setCursor(user, phone, 4n);
        await store.setCursor(user, laptop, 9n);
        await store.setCursor(other, phone, 2n);
        const asked: [bigint, bigint][] = [
          [user, phone],
          [other, laptop],
          [user, laptop],
          [other, phone],
          [user, phone],
        ];
        assert.deepEqual(await Promise.all(asked.map(([u, d]) => store.getCursor(u, d))), [4n, 0n, 9n, 2n, 4n]);
      });

      it("keeps the highest of concurrent cursor updates", async () => {
        const [user, device] = [newId(), newId()];
        const values = [7n, 20n, 3n, 15n, 1n, 19n, 11n, 2n];
        await Promise.all(values.map((seq) => store.setCursor(user, device, seq)));
        assert.equal(await store.getCursor(user, device), 20n);
      });
    });
  });
}
