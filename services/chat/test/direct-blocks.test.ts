import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DirectBlocks } from "../src/domain/direct-blocks.js";
import { NotAllowed } from "../src/errors.js";
import type { BlockDirectory, ConversationRecord, MessageStore } from "../src/ports.js";

const conversation = (id: bigint, kind: "direct" | "group", members: bigint[]): ConversationRecord => ({
  id,
  kind,
  name: "",
  createdAt: new Date(0),
  members: members.map((userId) => ({ userId }) as ConversationRecord["members"][number]),
  deleted: false,
});

/** Direct conversation 10 (users 1 and 2), group 20 (1, 2, 3); user 2 blocks user 1. Reads and questions counted. */
function setup(cache: "cold" | "warm" = "cold") {
  const counts = { reads: 0, questions: 0, peeks: 0 };
  const conversations = new Map([
    [10n, conversation(10n, "direct", [1n, 2n])],
    [20n, conversation(20n, "group", [1n, 2n, 3n])],
    [30n, conversation(30n, "direct", [3n, 4n])],
  ]);
  const store = {
    failing: false,
    async getConversation(id: bigint) {
      counts.reads++;
      if (store.failing) throw new Error("store down");
      return conversations.get(id);
    },
  };
  const state = (a: bigint, b: bigint) => ({ userBlocksOther: a === 2n && b === 1n, otherBlocksUser: a === 1n && b === 2n });
  const blocks: BlockDirectory = {
    cached(a, b) {
      counts.peeks++;
      return cache === "warm" ? state(a, b) : undefined;
    },
    async between(a, b) {
      counts.questions++;
      return state(a, b);
    },
    async fresh(a, b) {
      counts.questions++;
      return state(a, b);
    },
  };
  return { direct: new DirectBlocks(store as unknown as MessageStore, blocks), counts, store };
}

const refusal = async (check: Promise<void> | undefined) =>
  (await Promise.resolve(check).then(
    () => undefined,
    (err: unknown) => err,
  )) as Error | undefined;

describe("direct blocks (chat domain)", () => {
  it("refuses both members of a blocked direct conversation, each with their own message, reading the conversation once", async () => {
    const { direct, counts } = setup();
    const blocked = await refusal(direct.check(1n, 10n));
    assert.ok(blocked instanceof NotAllowed && blocked.message === "you cannot send messages to this user");
    const blocker = await refusal(direct.check(2n, 10n));
    assert.ok(blocker instanceof NotAllowed && blocker.message === "you blocked this user; unblock them to send messages");
    assert.equal(counts.reads, 1, "a direct conversation's members are read once");
  });

  it("asks nothing for a group's sends once its kind is known, nor for a non-member or a missing conversation", async () => {
    const { direct, counts } = setup();
    assert.equal(await refusal(direct.check(1n, 20n)), undefined);
    assert.equal(direct.check(2n, 20n), undefined, "known to be a group: no await, no question");
    assert.equal(await refusal(direct.check(3n, 10n)), undefined, "a non-member is the store's to refuse");
    assert.equal(await refusal(direct.check(1n, 99n)), undefined);
    await direct.check(1n, 99n);
    assert.deepEqual(counts, { reads: 4, questions: 0, peeks: 0 }, "a missing conversation is not remembered");
  });

  it("reads a conversation once for all the sends that wait for it, and again after a failed read", async () => {
    const { direct, counts, store } = setup();
    const checks = Array.from({ length: 50 }, (_, i) => refusal(direct.check(i % 2 === 0 ? 1n : 2n, 10n)));
    const refused = await Promise.all(checks);
    assert.equal(counts.reads, 1, "one read shared by 50 sends");
    assert.ok(refused.every((err) => err instanceof NotAllowed));
    store.failing = true;
    const failed = await Promise.all(Array.from({ length: 3 }, () => refusal(direct.check(3n, 30n))));
    assert.equal(counts.reads, 2, "a failed read is shared by its waiters too");
    assert.ok(failed.every((err) => err?.message === "store down"));
    store.failing = false;
    assert.equal(await refusal(direct.check(3n, 30n)), undefined);
    assert.equal(counts.reads, 3, "but not kept: the next send reads again");
  });

  it("refuses opening a direct conversation across a block either way", async () => {
    const { direct } = setup();
    await assert.rejects(direct.checkOpen(1n, 2n), { message: "you cannot start a conversation with this user" });
    await assert.rejects(direct.checkOpen(2n, 1n), { message: "you blocked this user; unblock them to start a conversation" });
    await direct.checkOpen(1n, 3n);
  });

  it("answers a cached pair without asking the directory, refusing the same way", async () => {
    const { direct, counts } = setup("warm");
    assert.equal(await refusal(direct.check(1n, 10n)).then((e) => e?.message), "you cannot send messages to this user");
    assert.equal(await refusal(direct.check(2n, 10n)).then((e) => e?.message), "you blocked this user; unblock them to send messages");
    assert.equal(counts.questions, 0, "no question: both answers came from the cache");
    assert.equal(counts.peeks, 2);
    assert.equal(await refusal(direct.check(3n, 30n)), undefined, "its first check reads the conversation");
    assert.equal(direct.check(3n, 30n), undefined, "then a pair that is not blocked costs not even a promise");
  });
});
