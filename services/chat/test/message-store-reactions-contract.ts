import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { MessageChangeRefused, REACTION_LIMITS, type MessageStore, type ReactionCount } from "../src/ports.js";
import { draft, EPOCH, newId, seqsOf, storeUnderTest, systemDraft, type OpenedMessageStore } from "./message-store-fixtures.js";

async function refused(change: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(change, (err) => err instanceof MessageChangeRefused && err.reason === reason);
}

const EMOJI = ["👍", "❤️", "😂", "🎉", "👍🏽", "🇫🇷", "👨‍👩‍👧", "1️⃣", "🔥", "😮", "😢", "🙏", "👀", "💯", "🚀", "✅", "🤔", "👏", "🥳", "😎", "🍕"];

/**
 * The message store contract for reactions (every adapter runs it): a
 * change and its entries all or nothing, each member's next seq, counts per
 * emoji as each member sees them (in the outcome, in each entry, in inbox
 * reads as they stand now and in reactionsOf), repeats that write nothing,
 * both caps, and every refusal with nothing written.
 */
export function describeMessageStoreReactionsContract(name: string, open: () => Promise<OpenedMessageStore>): void {
  describe(`message store reactions (${name})`, () => {
    const subject = storeUnderTest(open);
    let store: MessageStore;
    before(() => {
      store = subject.store;
    });

    const at = (ms: number) => new Date(EPOCH + 20_000_000 + ms);
    const react = (id: bigint, messageId: bigint, userId: bigint, emoji: string, ms = 1, remove = false) =>
      store.react({ conversationId: id, messageId, userId, emoji, remove, at: at(ms) });

    async function withMessage() {
      const { a, b, id } = await subject.direct();
      const { message } = await store.append(draft(id, a));
      return { a, b, id, message };
    }

    /** A group of `size` users (entries at seq 1: its system message) with one message from the first (seq 2). */
    async function group(size: number) {
      const users = Array.from({ length: size }, () => newId());
      const id = newId();
      await store.createGroup({
        id,
        name: "g",
        settings: { historyVisibleToNewMembers: false },
        members: users.map((userId, i) => ({ userId, role: i === 0 ? ("owner" as const) : ("member" as const) })),
        systemMessage: systemDraft(id),
      });
      const { message } = await store.append(draft(id, users[0]!));
      return { id, users, message };
    }

    it("adds a reaction and gives every member a reacted entry at their next seq with the counts as they see them", async () => {
      const { a, b, id, message } = await withMessage();
      const outcome = await react(id, message.messageId, b, "👍");
      const reaction = { conversationId: id, messageId: message.messageId, byUserId: b, emoji: "👍", removed: false, at: at(1) };
      const mine: ReactionCount[] = [{ emoji: "👍", count: 1, mine: true }];
      const theirs: ReactionCount[] = [{ emoji: "👍", count: 1, mine: false }];
      assert.deepEqual(outcome, {
        counts: mine,
        changed: true,
        actorSeq: 2n,
        entries: [
          { userId: a, seq: 2n, item: { kind: "reacted", reaction: { ...reaction, counts: theirs } } },
          { userId: b, seq: 2n, item: { kind: "reacted", reaction: { ...reaction, counts: mine } } },
        ],
      });
      const inbox = await store.inbox(a, 0n, 10);
      assert.deepEqual(seqsOf(inbox), [1n, 2n]);
      assert.deepEqual(inbox[1]?.item, { kind: "reacted", reaction: { ...reaction, counts: theirs } });
      assert.deepEqual(await store.reactionsOf([{ conversationId: id, messageId: message.messageId }], b), new Map([[message.messageId, mine]]));
      assert.deepEqual(await store.headSeq(b), 2n);
    });

    it("counts per emoji in the order of its earliest reaction still there, several per user, and sync shows the counts as they stand now", async () => {
      const { a, b, id, message } = await withMessage();
      await react(id, message.messageId, a, "❤️", 1);
      await react(id, message.messageId, b, "👍🏽", 2);
      await react(id, message.messageId, b, "❤️", 3);
      const removed = await react(id, message.messageId, a, "❤️", 4, true);
      // a's "❤️" (the first) is gone: b's (added after "👍🏽") is the first now.
      assert.deepEqual(removed.counts, [
        { emoji: "👍🏽", count: 1, mine: false },
        { emoji: "❤️", count: 1, mine: false },
      ]);
      const counts = await store.reactionsOf([{ conversationId: id, messageId: message.messageId }], b);
      assert.deepEqual(counts.get(message.messageId), [
        { emoji: "👍🏽", count: 1, mine: true },
        { emoji: "❤️", count: 1, mine: true },
      ]);
      const inbox = await store.inbox(a, 1n, 10);
      assert.deepEqual(seqsOf(inbox), [2n, 3n, 4n, 5n]);
      const last = inbox[3]?.item;
      assert.ok(last?.kind === "reacted");
      assert.equal(last.reaction.removed, true);
      // Every reacted entry read now carries the counts as they stand now.
      for (const entry of inbox) assert.deepEqual(entry.item.kind === "reacted" && entry.item.reaction.counts, removed.counts);
      assert.deepEqual(await store.reactionsOf([], a), new Map());
    });

    it("adds and removes idempotently: a repeat changes nothing and writes no entry", async () => {
      const { a, b, id, message } = await withMessage();
      await react(id, message.messageId, a, "🎉");
      const again = await react(id, message.messageId, a, "🎉", 2);
      assert.deepEqual(again, { counts: [{ emoji: "🎉", count: 1, mine: true }], changed: false, actorSeq: 0n, entries: [] });
      await react(id, message.messageId, a, "🎉", 3, true);
      const absent = await react(id, message.messageId, a, "🎉", 4, true);
      assert.deepEqual(absent, { counts: [], changed: false, actorSeq: 0n, entries: [] });
      assert.deepEqual([await store.headSeq(a), await store.headSeq(b)], [3n, 3n]);
    });

    it(`refuses a user more than ${REACTION_LIMITS.perUserPerMessage} reactions and a message more than ${REACTION_LIMITS.distinctPerMessage} distinct emoji, writing nothing`, async () => {
      const { id, users, message } = await group(8);
      const [first] = users;
      for (let i = 0; i < REACTION_LIMITS.perUserPerMessage; i++) await react(id, message.messageId, first!, EMOJI[i]!, i);
      await refused(react(id, message.messageId, first!, EMOJI[20]!, 9), "too_many_mine");
      // Others may add the same emoji beyond the cap of distinct ones.
      let n = REACTION_LIMITS.perUserPerMessage;
      for (const user of users.slice(1)) {
        for (let i = 0; i < REACTION_LIMITS.perUserPerMessage && n < REACTION_LIMITS.distinctPerMessage; i++)
          await react(id, message.messageId, user, EMOJI[n++]!, n);
      }
      const last = users.at(-1)!;
      const head = await store.headSeq(last);
      await refused(react(id, message.messageId, last, EMOJI[20]!, 99), "too_many_emoji");
      assert.equal(await store.headSeq(last), head, "nothing written");
      assert.equal((await react(id, message.messageId, last, EMOJI[0]!, 100)).changed, true, "an emoji the message has is still fine");
      const counts = (await store.reactionsOf([{ conversationId: id, messageId: message.messageId }], first!)).get(message.messageId);
      assert.equal(counts?.length, REACTION_LIMITS.distinctPerMessage);
      assert.deepEqual(counts?.[0], { emoji: EMOJI[0], count: 2, mine: true });
    });

    it("refuses a deleted message, an unknown one, another conversation's, a non-member and a member who left", async () => {
      const { a, b, id, message } = await withMessage();
      const other = await withMessage();
      await store.deleteMessage({ conversationId: id, messageId: message.messageId, userId: a, forEveryone: true, at: at(1) });
      await refused(react(id, message.messageId, b, "👍"), "deleted");
      await refused(react(id, newId(), b, "👍"), "no_message");
      await refused(react(id, other.message.messageId, b, "👍"), "no_message");
      await refused(react(newId(), message.messageId, b, "👍"), "no_conversation");
      await refused(react(id, message.messageId, newId(), "👍"), "not_member");
      const { id: groupId, users, message: groupMessage } = await group(3);
      await store.updateGroup(groupId, () => ({ remove: [users[2]!], systemMessage: systemDraft(groupId) }));
      await refused(react(groupId, groupMessage.messageId, users[2]!, "👍"), "not_member");
      assert.deepEqual([await store.headSeq(a), await store.headSeq(b)], [2n, 2n], "only the deletion's entries");
      assert.equal(await store.headSeq(users[2]!), 3n, "the group's message and the removal, nothing after");
    });

    it("gives concurrent reactions to one message gap-free seqs and keeps every one", async () => {
      const { id, users, message } = await group(4);
      await Promise.all(users.flatMap((user, u) => EMOJI.slice(0, 3).map((emoji, i) => react(id, message.messageId, user, emoji, u * 3 + i))));
      for (const user of users)
        assert.deepEqual(
          seqsOf(await store.inbox(user, 0n, 100)),
          Array.from({ length: 14 }, (_, i) => BigInt(i + 1)),
        );
      const counts = (await store.reactionsOf([{ conversationId: id, messageId: message.messageId }], users[0]!)).get(message.messageId);
      assert.deepEqual(
        counts?.map((c) => [c.emoji, c.count]),
        EMOJI.slice(0, 3).map((e) => [e, 4]),
      );
    });
  });
}
