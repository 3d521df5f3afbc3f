import assert from "node:assert/strict";
import type { Message } from "@parley/contracts/parley/chat/v1/chat";
import { until } from "@parley/testkit";
import { castOfFour } from "./cast.js";
import type { ChatWorld } from "./chat-scenarios.js";
import { refusedWith } from "./refused-with.js";
import { connectDevice, type Device } from "./sdk.js";

const quoteOf = (m: Message | undefined) =>
  m?.replyTo ? [m.replyTo.messageId, m.replyTo.senderId, m.replyTo.textPreview, m.replyTo.deleted, m.replyTo.unavailable] : undefined;

/**
 * Replies end to end through real WebSockets (ChatWorld is either run
 * mode). B replies to A's long message: every online device gets it live
 * with the quote (id, sender, the first 100 code points); history shows the
 * quote as the quoted message stands when read (after A's edit, then after
 * A's deletion: deleted, no preview); B's offline tablet syncs it so; in a
 * group, a member who joined after the quoted message sees the quote as
 * unavailable; every bad reply_to is refused with its code and a clear
 * message.
 */
export async function replies(world: ChatWorld, prefix: string): Promise<void> {
  const { a1, b1, c1, alice, aliceLaptop, bob, carol, online } = await castOfFour(world, prefix);
  let bobTablet: Device | undefined;
  try {
    const id = (await alice.client.openDirect(b1.userId)).conversationId;
    const long = `${"🙂".repeat(50)}${"x".repeat(200)}`;
    const original = await alice.client.send(id, long);
    const plain = await bob.client.send(id, "no reply");
    const reply = await bob.client.send(id, "a reply", { replyToMessageId: original.messageId });
    for (const device of [alice, aliceLaptop, bob]) await device.received(3);
    const preview = `${"🙂".repeat(50)}${"x".repeat(50)}`;
    for (const device of [alice, aliceLaptop, bob]) {
      const live = device.messages.find((m) => m.messageId === reply.messageId);
      assert.deepEqual(quoteOf(live), [original.messageId, a1.userId, preview, false, false], "live, with the quote");
      assert.equal(device.messages.find((m) => m.messageId === plain.messageId)?.replyTo, undefined, "a message that is no reply has no quote");
    }

    // History resolves the quote when read: an edit of the quoted message shows, then its deletion.
    await alice.client.editMessage(id, original.messageId, "short now");
    const afterEdit = (await bob.client.history(id)).messages.find((m) => m.messageId === reply.messageId);
    assert.deepEqual(quoteOf(afterEdit), [original.messageId, a1.userId, "short now", false, false]);
    await alice.client.deleteMessage(id, original.messageId, { forEveryone: true });
    const afterDelete = (await alice.client.history(id)).messages.find((m) => m.messageId === reply.messageId);
    assert.deepEqual(quoteOf(afterDelete), [original.messageId, a1.userId, "", true, false], "deleted: no preview");

    // B's tablet was offline throughout: sync brings the reply with the quote as it stands now.
    bobTablet = await connectDevice(world.gatewayUrl, (await world.login(`${prefix}_b`, "tablet")).token);
    const tablet = bobTablet;
    await until(() => tablet.messages.length === 3, "the tablet synced");
    assert.deepEqual(quoteOf(tablet.messages.find((m) => m.messageId === reply.messageId)), [original.messageId, a1.userId, "", true, false]);

    // A group that hides earlier history: a later member sees a reply to an earlier message without its quote.
    const group = (await alice.client.createGroup(`${prefix} group`, [b1.userId])).conversationId;
    const early = await alice.client.send(group, "before carol");
    await alice.client.addMembers(group, [c1.userId]);
    const groupReply = await bob.client.send(group, "replying to the early one", { replyToMessageId: early.messageId });
    await until(() => carol.messages.some((m) => m.messageId === groupReply.messageId), "the group reply at carol's");
    assert.deepEqual(quoteOf(carol.messages.find((m) => m.messageId === groupReply.messageId)), [early.messageId, 0n, "", false, true]);
    assert.deepEqual(quoteOf((await carol.client.history(group)).messages.find((m) => m.messageId === groupReply.messageId)), [
      early.messageId,
      0n,
      "",
      false,
      true,
    ]);
    await until(() => bob.messages.some((m) => m.messageId === groupReply.messageId), "the group reply at bob's");
    assert.deepEqual(quoteOf(bob.messages.find((m) => m.messageId === groupReply.messageId)), [early.messageId, a1.userId, "before carol", false, false]);

    // Bad reply_to, each with its code and a message that says what is wrong.
    const elsewhere = (await alice.client.openDirect(c1.userId)).conversationId;
    const there = await alice.client.send(elsewhere, "in another conversation");
    await refusedWith(
      bob.client.send(id, "wrong conversation", { replyToMessageId: there.messageId }),
      "NOT_FOUND",
      /^reply_to_message_id: no message with id \d+ in conversation \d+ to reply to$/,
    );
    await refusedWith(
      bob.client.send(id, "unknown", { replyToMessageId: reply.messageId + 1_000_000n }),
      "NOT_FOUND",
      /no message with id \d+ in conversation \d+ to reply to/,
    );
    await refusedWith(
      bob.client.send(id, "to a deleted one", { replyToMessageId: original.messageId }),
      "INVALID_ARGUMENT",
      /^reply_to_message_id names a deleted message/,
    );
    await refusedWith(
      carol.client.send(group, "before my time", { replyToMessageId: early.messageId }),
      "NOT_FOUND",
      /no message with id \d+ in conversation \d+ to reply to/,
    );
    await refusedWith(carol.client.send(id, "not my conversation", { replyToMessageId: reply.messageId }), "PERMISSION_DENIED", /not a member/);
  } finally {
    await Promise.all([...online, ...(bobTablet ? [bobTablet] : [])].map((d) => d.client.close()));
  }
}
