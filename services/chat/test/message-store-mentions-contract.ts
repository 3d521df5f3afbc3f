import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { MessageStore } from "../src/ports.js";
import { draft, messageOf, storeUnderTest, type OpenedMessageStore } from "./message-store-fixtures.js";

/**
 * The message store contract for mentions (every adapter runs it): a
 * message's mentionedUserIds stored with it and read back everywhere, and
 * each member's unread mentions in the conversation list, which follow the
 * read marker and leave out deleted messages.
 */
export function describeMessageStoreMentionsContract(name: string, open: () => Promise<OpenedMessageStore>): void {
  describe(`message store mentions (${name})`, () => {
    const subject = storeUnderTest(open);
    let store: MessageStore;
    before(() => {
      store = subject.store;
    });

    it("stores mentionedUserIds and reads them back in the outcome, history, the inbox and the conversation list", async () => {
      const { a, b, id } = await subject.direct();
      const { message } = await store.append(draft(id, a, { text: "hi @b", mentionedUserIds: [b] }));
      assert.deepEqual(message.mentionedUserIds, [b]);
      assert.deepEqual((await store.history(id, undefined, 10))[0]?.mentionedUserIds, [b]);
      assert.deepEqual(messageOf((await store.inbox(b, 0n, 10))[0]).mentionedUserIds, [b]);
      const [summary] = await store.listConversations(b, 10);
      assert.deepEqual(summary?.lastMessage?.mentionedUserIds, [b]);
      await store.append(draft(id, a));
      assert.equal((await store.history(id, undefined, 10))[0]?.mentionedUserIds, undefined, "a message with no mentions has none");
    });

    it("counts each member's unread mentions: after their read marker, not deleted, not for others", async () => {
      const { a, b, id } = await subject.direct();
      const { message: first } = await store.append(draft(id, a, { mentionedUserIds: [b] }));
      await store.append(draft(id, a));
      const { message: gone } = await store.append(draft(id, a, { mentionedUserIds: [b] }));
      const { message: last } = await store.append(draft(id, a, { mentionedUserIds: [b] }));
      const summaryOf = async (user: bigint) => (await store.listConversations(user, 10)).find((s) => s.conversation.id === id);
      assert.deepEqual([(await summaryOf(b))?.unreadCount, (await summaryOf(b))?.unreadMentions], [4, 3]);
      await store.markRead(id, b, first.messageId, new Date(), [a, b]);
      await store.deleteMessage({ conversationId: id, messageId: gone.messageId, userId: a, forEveryone: true, at: new Date() });
      assert.deepEqual([(await summaryOf(b))?.unreadCount, (await summaryOf(b))?.unreadMentions], [2, 1]);
      assert.equal((await summaryOf(a))?.unreadMentions, 0, "the sender is mentioned by nobody");
      await store.markRead(id, b, last.messageId, new Date(), [a, b]);
      assert.equal((await summaryOf(b))?.unreadMentions, 0);
    });
  });
}
