import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ConversationRecord, MessageStore, StoredMessage } from "../src/ports.js";
import { draft, EPOCH, newId, seqsOf, storeUnderTest, type OpenedMessageStore } from "./message-store-fixtures.js";

/** The message store contract for reading: read markers and the conversation list; run beside the main contract. */
export function describeMessageStoreReadingContract(name: string, open: () => Promise<OpenedMessageStore>): void {
  describe(`message store reading (${name})`, () => {
    const subject = storeUnderTest(open);
    let store: MessageStore;
    before(() => {
      store = subject.store;
    });

    const direct = () => subject.direct();
    const send = (conversationId: bigint, senderId: bigint, recipients: bigint[], fields: Partial<StoredMessage> = {}) =>
      store.append(draft(conversationId, senderId, fields), recipients);

    describe("markRead", () => {
      it("advances the read marker only forward and writes read entries to every recipient", async () => {
        const { a, b, id } = await direct();
        const [m1, m2, m3] = [await send(id, a, [a, b]), await send(id, a, [a, b]), await send(id, a, [a, b])].map((o) => o.message);
        const at = new Date(EPOCH + 123_456);
        const read = { conversationId: id, userId: b, messageId: m2!.messageId, readAt: at };
        const marked = await store.markRead(id, b, m2!.messageId, at, [a, b]);
        assert.deepEqual(marked, {
          advanced: true,
          entries: [
            { userId: a, seq: 4n, item: { kind: "read", read } },
            { userId: b, seq: 4n, item: { kind: "read", read } },
          ],
        });
        assert.deepEqual(await store.markRead(id, b, m2!.messageId, at, [a, b]), { advanced: false, entries: [] });
        assert.deepEqual(await store.markRead(id, b, m1!.messageId, at, [a, b]), { advanced: false, entries: [] });
        assert.deepEqual(await store.inbox(a, 3n, 10), [{ userId: a, seq: 4n, item: { kind: "read", read } }]);
        const members = (await store.getConversation(id))!.members;
        assert.deepEqual(
          members.map((m) => m.readMessageId),
          [0n, m2!.messageId],
        );
        assert.deepEqual(seqsOf((await store.markRead(id, b, m3!.messageId, at, [a, b])).entries), [5n, 5n]);
        assert.equal(await store.headSeq(b), 5n);
      });

      it("changes nothing for a user outside the conversation", async () => {
        const { a, b, id } = await direct();
        const sent = await send(id, a, [a, b]);
        const stranger = newId();
        assert.deepEqual(await store.markRead(id, stranger, sent.message.messageId, new Date(), [a, b, stranger]), {
          advanced: false,
          entries: [],
        });
        assert.equal(await store.headSeq(a), 1n);
      });

      it("counts unread messages after the marker, leaving out the reader's own and system messages", async () => {
        const { a, b, id } = await direct();
        await send(id, a, [a, b]);
        const m2 = await send(id, a, [a, b]);
        await send(id, b, [a, b]);
        await send(id, 0n, [a, b], { clientMsgId: "", system: new Uint8Array([1]) });
        await send(id, a, [a, b]);
        assert.equal(await store.unreadCount(id, b), 3);
        assert.equal(await store.unreadCount(id, a), 1);
        await store.markRead(id, b, m2.message.messageId, new Date(), [a, b]);
        assert.equal(await store.unreadCount(id, b), 1);
        assert.equal(await store.unreadCount(id, newId()), 0);
      });
    });

    describe("listConversations", () => {
      /** One user with `count` direct conversations, oldest first. */
      const userWithConversations = async (count: number) => {
        const user = newId();
        const peers: bigint[] = [];
        const conversations: ConversationRecord[] = [];
        for (let i = 0; i < count; i++) {
          peers.push(newId());
          conversations.push(await store.openDirect(user, peers[i]!, newId()));
        }
        return { user, peers, conversations };
      };

      it("orders conversations by last activity, newest first, with last message and unread count", async () => {
        const { user, peers, conversations } = await userWithConversations(3);
        const [c1, c2, c3] = conversations as [ConversationRecord, ConversationRecord, ConversationRecord];
        const fromPeer = await send(c1.id, peers[0]!, [user, peers[0]!]);
        let list = await store.listConversations(user, 10);
        assert.deepEqual(
          list.map((s) => [s.conversation.id, s.lastActivityId]),
          [
            [c1.id, fromPeer.message.messageId],
            [c3.id, c3.id],
            [c2.id, c2.id],
          ],
        );
        assert.deepEqual(list[0], {
          conversation: c1,
          lastMessage: fromPeer.message,
          unreadCount: 1,
          unreadMentions: 0,
          lastReadMessageId: 0n,
          lastActivityId: fromPeer.message.messageId,
        });
        assert.equal(list[1]!.lastMessage, undefined);
        assert.equal(list[1]!.unreadCount, 0);

        const mine = await send(c2.id, user, [user, peers[1]!]);
        await store.markRead(c1.id, user, fromPeer.message.messageId, new Date(), [user, peers[0]!]);
        list = await store.listConversations(user, 10);
        assert.deepEqual(
          list.map((s) => [s.conversation.id, s.unreadCount]),
          [
            [c2.id, 0],
            [c1.id, 0],
            [c3.id, 0],
          ],
        );
        assert.deepEqual(list[0]!.lastMessage, mine.message);
        assert.equal(list[1]!.lastReadMessageId, fromPeer.message.messageId);
      });

      it("pages strictly below beforeActivityId", async () => {
        const { user, conversations } = await userWithConversations(5);
        const ids = conversations.map((c) => c.id).toReversed();
        const page1 = await store.listConversations(user, 2);
        const page2 = await store.listConversations(user, 2, page1.at(-1)!.lastActivityId);
        const page3 = await store.listConversations(user, 2, page2.at(-1)!.lastActivityId);
        assert.deepEqual(
          [page1, page2, page3].map((page) => page.map((s) => s.conversation.id)),
          [ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)],
        );
        assert.deepEqual(await store.listConversations(user, 2, page3[0]!.lastActivityId), []);
      });

      it("keeps a conversation's newest message as its activity when an older id is stored later", async () => {
        const { user, peers, conversations } = await userWithConversations(1);
        const olderId = newId();
        const newer = await send(conversations[0]!.id, user, [user, peers[0]!]);
        await send(conversations[0]!.id, peers[0]!, [user, peers[0]!], { messageId: olderId });
        const [summary] = await store.listConversations(user, 10);
        assert.equal(summary?.lastActivityId, newer.message.messageId);
        assert.deepEqual(summary?.lastMessage, newer.message);
        assert.equal(summary?.unreadCount, 1);
      });
    });
  });
}
