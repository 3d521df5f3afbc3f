import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { GroupChange, MessageSearch, MessageStore, StoredMessage } from "../src/ports.js";
import { draft, EPOCH, newId, storeUnderTest, systemDraft, type OpenedMessageStore } from "./message-store-fixtures.js";

/**
 * The message store contract for search (the adapters with a search index
 * run it): every word must be there, whole and in any case; newest first and
 * paged; only what the user can read now (their horizon, current
 * memberships, no deleted group, no message deleted for everyone or by them
 * for themselves, no system message); an edit changes what matches.
 */
export function describeMessageStoreSearchContract(name: string, open: () => Promise<OpenedMessageStore>): void {
  describe(`message store search (${name})`, () => {
    const subject = storeUnderTest(open);
    let store: MessageStore;
    before(() => {
      store = subject.store;
    });

    const say = async (conversationId: bigint, senderId: bigint, text: string) => (await store.append(draft(conversationId, senderId, { text }))).message;
    const search = (userId: bigint, words: string[], extra: Partial<MessageSearch> = {}) => store.searchMessages({ userId, words, limit: 50, ...extra });
    const idsOf = (messages: StoredMessage[]) => messages.map((m) => m.messageId);
    const group = async (users: bigint[], historyVisibleToNewMembers = false) => {
      const id = newId();
      await store.createGroup({
        id,
        name: `group ${id}`,
        settings: { historyVisibleToNewMembers },
        members: users.map((userId, i) => ({ userId, role: i === 0 ? "owner" : "member" })),
        systemMessage: systemDraft(id),
      });
      return id;
    };
    const change = (id: bigint, fields: Omit<GroupChange, "systemMessage">) => store.updateGroup(id, () => ({ ...fields, systemMessage: systemDraft(id) }));

    it("finds the messages holding every word, whole and in any case, each as history returns it", async () => {
      const { a, b, id } = await subject.direct();
      const hello = await say(id, a, "Hello World, how are you?");
      await say(id, b, "hello there");
      await say(id, b, "worldwide helloes");
      assert.deepEqual(await search(b, ["hello", "world"]), [hello]);
      assert.deepEqual(idsOf(await search(a, ["world"])), [hello.messageId], "whole words: worldwide is not world");
      assert.deepEqual(await search(a, ["hello", "planet"]), [], "every word must be there");
      assert.equal((await search(a, ["hello"])).length, 2, "Hello and hello alike");
    });

    it("answers newest first across conversations, pages by beforeMessageId and limit, and filters by conversation", async () => {
      const { a, b, id: first } = await subject.direct();
      const c = newId();
      const second = (await store.openDirect(a, c, newId())).id;
      const m1 = await say(first, a, "lunch at noon");
      const m2 = await say(second, c, "Lunch tomorrow?");
      const m3 = await say(first, b, "no lunch today");
      await say(first, b, "dinner then");
      assert.deepEqual(idsOf(await search(a, ["lunch"])), [m3.messageId, m2.messageId, m1.messageId]);
      assert.deepEqual(idsOf(await search(a, ["lunch"], { limit: 2 })), [m3.messageId, m2.messageId]);
      assert.deepEqual(idsOf(await search(a, ["lunch"], { beforeMessageId: m2.messageId })), [m1.messageId]);
      assert.deepEqual(idsOf(await search(a, ["lunch"], { conversationId: first })), [m3.messageId, m1.messageId]);
      assert.deepEqual(idsOf(await search(b, ["lunch"])), [m3.messageId, m1.messageId], "b never sees a's conversation with c");
    });

    it("respects a later member's history horizon, and shows earlier history when the group does", async () => {
      const [owner, late] = [newId(), newId()];
      const hidden = await group([owner], false);
      const shown = await group([owner], true);
      const before1 = await say(hidden, owner, "secret plans");
      const before2 = await say(shown, owner, "public plans");
      await change(hidden, { add: [{ userId: late, role: "member" }] });
      await change(shown, { add: [{ userId: late, role: "member" }] });
      const after = await say(hidden, owner, "new plans");
      assert.deepEqual(idsOf(await search(late, ["plans"])), [after.messageId, before2.messageId]);
      assert.deepEqual(idsOf(await search(owner, ["plans"])), [after.messageId, before2.messageId, before1.messageId]);
    });

    it("leaves out conversations the user left or that were deleted", async () => {
      const [owner, leaver] = [newId(), newId()];
      const left = await group([owner, leaver]);
      const deleted = await group([owner, leaver]);
      const kept = await group([owner, leaver]);
      await say(left, owner, "budget review");
      await say(deleted, owner, "budget draft");
      const stays = await say(kept, owner, "budget final");
      await change(left, { remove: [leaver] });
      assert.deepEqual(idsOf(await search(leaver, ["budget"])).length, 2);
      await change(deleted, { delete: true });
      assert.deepEqual(idsOf(await search(leaver, ["budget"])), [stays.messageId]);
      assert.deepEqual(idsOf(await search(owner, ["budget"])).length, 2, "the owner still reads the group they did not leave, not the deleted one");
    });

    it("never matches a message deleted for everyone or one the user deleted for themselves", async () => {
      const { a, b, id } = await subject.direct();
      const erased = await say(id, a, "call me maybe");
      const hiddenForB = await say(id, a, "call me later");
      const kept = await say(id, a, "call me now");
      const at = new Date(EPOCH + 20_000_000);
      await store.deleteMessage({ conversationId: id, messageId: erased.messageId, userId: a, forEveryone: true, at });
      await store.deleteMessage({ conversationId: id, messageId: hiddenForB.messageId, userId: b, forEveryone: false, at });
      assert.deepEqual(idsOf(await search(b, ["call", "me"])), [kept.messageId]);
      assert.deepEqual(idsOf(await search(a, ["call"])), [kept.messageId, hiddenForB.messageId], "a deletion for oneself hides it from that user only");
      assert.deepEqual(await search(a, ["maybe"]), []);
    });

    it("finds an edited message by its new words only", async () => {
      const { a, b, id } = await subject.direct();
      const message = await say(id, a, "meet at the station");
      await store.editMessage({ conversationId: id, messageId: message.messageId, userId: a, text: "meet at the harbour", at: new Date(EPOCH + 20_000_000) });
      assert.deepEqual(await search(b, ["station"]), []);
      const [found] = await search(b, ["harbour", "meet"]);
      assert.equal(found?.text, "meet at the harbour");
      assert.ok(found?.editedAt, "as history returns it: with its edited mark");
    });

    it("treats words that look like query syntax as plain words", async () => {
      const { a, id } = await subject.direct();
      const message = await say(id, a, "not or and near x");
      assert.deepEqual(idsOf(await search(a, ["not", "or", "and", "near"])), [message.messageId]);
      assert.deepEqual(await search(a, ["nothing"]), []);
    });
  });
}
