import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { MessageStore, QuotedMessage } from "../src/ports.js";
import { draft, EPOCH, messageOf, newId, storeUnderTest, systemDraft, type OpenedMessageStore } from "./message-store-fixtures.js";

/**
 * The message store contract for replies (every adapter runs it): a reply's
 * replyToMessageId stored with it and read back everywhere, what a reply may
 * name for its sender (replyTarget), and the quotes each reader sees as the
 * quoted message stands now (quotesOf): edited, deleted for everyone or for
 * the reader, or before the reader's history horizon.
 */
export function describeMessageStoreRepliesContract(name: string, open: () => Promise<OpenedMessageStore>): void {
  describe(`message store replies (${name})`, () => {
    const subject = storeUnderTest(open);
    let store: MessageStore;
    before(() => {
      store = subject.store;
    });

    const at = (ms: number) => new Date(EPOCH + 30_000_000 + ms);
    const quote = (messageId: bigint, senderId: bigint, preview: string, deleted = false): QuotedMessage => ({
      messageId,
      senderId,
      preview,
      deleted,
      unavailable: false,
    });

    it("stores a reply's replyToMessageId and reads it back in the outcome, history and the inbox", async () => {
      const { a, b, id } = await subject.direct();
      const { message: first } = await store.append(draft(id, a));
      const { message: reply } = await store.append(draft(id, b, { replyToMessageId: first.messageId }));
      assert.equal(reply.replyToMessageId, first.messageId);
      assert.equal((await store.history(id, undefined, 10))[0]?.replyToMessageId, first.messageId);
      assert.equal(messageOf((await store.inbox(a, 1n, 10))[0]).replyToMessageId, first.messageId);
      assert.equal((await store.history(id, undefined, 10))[1]?.replyToMessageId, undefined, "a message that is no reply has none");
    });

    it("finds what a reply names for its sender: the quote with a preview of 100 code points, and nothing else", async () => {
      const { a, b, id } = await subject.direct();
      const long = `${"😀".repeat(99)}ab${"c".repeat(500)}`;
      const { message } = await store.append(draft(id, a, { text: long }));
      assert.deepEqual(await store.replyTarget(id, message.messageId, b), {
        kind: "found",
        quote: quote(message.messageId, a, `${"😀".repeat(99)}a`),
        blind: [],
      });
      const other = await subject.direct();
      const { message: elsewhere } = await store.append(draft(other.id, other.a));
      assert.deepEqual(await store.replyTarget(id, elsewhere.messageId, a), { kind: "no_message" }, "another conversation's message");
      assert.deepEqual(await store.replyTarget(id, newId(), a), { kind: "no_message" });
      assert.deepEqual(await store.replyTarget(newId(), message.messageId, a), { kind: "no_conversation" });
      assert.deepEqual(await store.replyTarget(id, message.messageId, newId()), { kind: "not_member" });
      await store.deleteMessage({ conversationId: id, messageId: message.messageId, userId: a, forEveryone: true, at: at(1) });
      assert.deepEqual(await store.replyTarget(id, message.messageId, b), { kind: "found", quote: quote(message.messageId, a, "", true), blind: [] });
    });

    it("treats a message before the sender's horizon as unknown and names the members it is hidden from", async () => {
      const [owner, late] = [newId(), newId()];
      const id = newId();
      await store.createGroup({
        id,
        name: "g",
        settings: { historyVisibleToNewMembers: false },
        members: [{ userId: owner, role: "owner" }],
        systemMessage: systemDraft(id),
      });
      const { message: early } = await store.append(draft(id, owner, { text: "before you came" }));
      await store.updateGroup(id, () => ({ add: [{ userId: late, role: "member" }], systemMessage: systemDraft(id) }));
      assert.deepEqual(await store.replyTarget(id, early.messageId, late), { kind: "no_message" });
      assert.deepEqual(await store.replyTarget(id, early.messageId, owner), {
        kind: "found",
        quote: quote(early.messageId, owner, "before you came"),
        blind: [late],
      });
      const quotes = await store.quotesOf([{ conversationId: id, messageId: early.messageId }], late);
      assert.deepEqual(quotes.get(early.messageId), { messageId: early.messageId, senderId: 0n, preview: "", deleted: false, unavailable: true });
    });

    it("reads quotes as the quoted messages stand now: edited, deleted for everyone, deleted by the reader for themselves", async () => {
      const { a, b, id } = await subject.direct();
      const { message: edited } = await store.append(draft(id, a, { text: "helo" }));
      const { message: erased } = await store.append(draft(id, a, { text: "a secret" }));
      const { message: hidden } = await store.append(draft(id, a, { text: "hidden for b" }));
      await store.editMessage({ conversationId: id, messageId: edited.messageId, userId: a, text: "hello", at: at(1) });
      await store.deleteMessage({ conversationId: id, messageId: erased.messageId, userId: a, forEveryone: true, at: at(2) });
      await store.deleteMessage({ conversationId: id, messageId: hidden.messageId, userId: b, forEveryone: false, at: at(3) });
      const keys = [edited, erased, hidden, edited].map((m) => ({ conversationId: id, messageId: m.messageId }));
      assert.deepEqual(
        await store.quotesOf(keys, b),
        new Map([
          [edited.messageId, quote(edited.messageId, a, "hello")],
          [erased.messageId, quote(erased.messageId, a, "", true)],
          [hidden.messageId, quote(hidden.messageId, a, "", true)],
        ]),
      );
      assert.deepEqual((await store.quotesOf(keys, a)).get(hidden.messageId), quote(hidden.messageId, a, "hidden for b"), "hidden for b only");
      assert.deepEqual(await store.quotesOf([], a), new Map());
    });
  });
}
