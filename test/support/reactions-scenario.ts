import assert from "node:assert/strict";
import { until } from "@parley/testkit";
import { castOfFour } from "./cast.js";
import type { ChatWorld } from "./chat-scenarios.js";
import { refusedWith } from "./refused-with.js";
import { connectDevice, type Device } from "./sdk.js";

const shown = (device: Device) => device.reactions.map((r) => [r.emoji, r.removed, r.reactions.map((c) => [c.emoji, c.count, c.mine])]);

/**
 * Reactions end to end through real WebSockets (ChatWorld is either run
 * mode). A's phone and laptop and B's phone are online; B's tablet logs in
 * only at the end, to learn everything by sync. B and A react and B removes
 * one: every device gets each change once, in seq order, with the counts as
 * its user sees them; history counts them; every bad input (a non-emoji, two
 * emoji, a deleted message, the caps, a member who left) is answered with
 * its code and a clear message.
 */
export async function reactions(world: ChatWorld, prefix: string): Promise<void> {
  const { a1, b1, c1, alice, aliceLaptop, bob, carol, online } = await castOfFour(world, prefix);
  let bobTablet: Device | undefined;
  try {
    const id = (await alice.client.openDirect(b1.userId)).conversationId;
    const hello = await alice.client.send(id, "hello");
    const gone = await alice.client.send(id, "to be deleted");
    for (const device of [alice, aliceLaptop, bob]) await device.received(2);

    // Live: B's reaction reaches both of A's devices and B's own, once each, with the counts as each user sees them.
    const thumbs = await bob.client.react(id, hello.messageId, "👍🏽");
    assert.deepEqual([thumbs.unchanged, thumbs.reactions.map((r) => [r.emoji, r.count, r.mine])], [false, [["👍🏽", 1, true]]]);
    assert.ok(thumbs.seq > hello.seq);
    await until(() => [alice, aliceLaptop, bob].every((d) => d.reactions.length === 1), "the reaction on every online device");
    assert.deepEqual(shown(alice), [["👍🏽", false, [["👍🏽", 1, false]]]]);
    assert.deepEqual(shown(bob), [["👍🏽", false, [["👍🏽", 1, true]]]]);
    assert.deepEqual([alice.reactions[0]!.byUserId, alice.reactions[0]!.messageId], [b1.userId, hello.messageId]);
    assert.deepEqual(await bob.client.react(id, hello.messageId, "👍🏽").then((r) => [r.unchanged, r.seq]), [true, 0n], "a repeat stores nothing");

    await alice.client.react(id, hello.messageId, "👍🏽");
    await bob.client.react(id, hello.messageId, "❤️");
    await bob.client.unreact(id, hello.messageId, "❤️");
    assert.deepEqual(await bob.client.unreact(id, hello.messageId, "❤️").then((r) => [r.unchanged, r.seq]), [true, 0n], "a repeated removal");
    await until(() => [alice, aliceLaptop, bob].every((d) => d.reactions.length === 4), "every change on every online device");
    assert.deepEqual(shown(aliceLaptop).slice(1), [
      ["👍🏽", false, [["👍🏽", 2, true]]],
      [
        "❤️",
        false,
        [
          ["👍🏽", 2, true],
          ["❤️", 1, false],
        ],
      ],
      ["❤️", true, [["👍🏽", 2, true]]],
    ]);

    // History counts reactions per message, "mine" for the reader.
    const history = (await bob.client.history(id)).messages;
    assert.deepEqual(
      history.map((m) => [m.text, m.reactions.map((r) => [r.emoji, r.count, r.mine])]),
      [
        ["to be deleted", []],
        ["hello", [["👍🏽", 2, true]]],
      ],
    );

    // B's tablet was offline throughout: sync brings each change once, in order, with the counts as they stand now.
    bobTablet = await connectDevice(world.gatewayUrl, (await world.login(`${prefix}_b`, "tablet")).token);
    const tablet = bobTablet;
    await until(() => tablet.messages.length === 2 && tablet.reactions.length === 4, "the tablet synced");
    assert.deepEqual(
      tablet.reactions.map((r) => [r.emoji, r.removed, r.byUserId]),
      [
        ["👍🏽", false, b1.userId],
        ["👍🏽", false, a1.userId],
        ["❤️", false, b1.userId],
        ["❤️", true, b1.userId],
      ],
    );
    for (const r of tablet.reactions)
      assert.deepEqual(
        r.reactions.map((c) => [c.emoji, c.count, c.mine]),
        [["👍🏽", 2, true]],
      );

    // Bad input, each with its code and a message that says what is wrong.
    await refusedWith(bob.client.react(id, hello.messageId, "ok"), "INVALID_ARGUMENT", /^emoji must be exactly one emoji/);
    await refusedWith(bob.client.react(id, hello.messageId, "👍👍"), "INVALID_ARGUMENT", /^emoji must be exactly one emoji/);
    await refusedWith(bob.client.react(id, hello.messageId, ""), "INVALID_ARGUMENT", /^emoji is required/);
    await refusedWith(bob.client.react(id, hello.messageId + 1_000_000n, "👍"), "NOT_FOUND", /no message with id/);
    await alice.client.deleteMessage(id, gone.messageId, { forEveryone: true });
    await refusedWith(bob.client.react(id, gone.messageId, "👍"), "INVALID_ARGUMENT", /deleted message, which cannot be reacted to/);
    await bob.client.react(id, hello.messageId, "😂");
    await bob.client.react(id, hello.messageId, "🎉");
    await refusedWith(bob.client.react(id, hello.messageId, "🚀"), "FAILED_PRECONDITION", /you have 3 reactions on message \d+ already/);
    await refusedWith(carol.client.react(id, hello.messageId, "👍"), "PERMISSION_DENIED", /not a member/);
    const group = await alice.client.createGroup(`${prefix} group`, [c1.userId]);
    const groupMessage = await alice.client.send(group.conversationId, "in the group");
    await carol.client.removeMember(group.conversationId, c1.userId);
    await refusedWith(carol.client.react(group.conversationId, groupMessage.messageId, "👍"), "PERMISSION_DENIED", /not a member/);
  } finally {
    await Promise.all([...online, ...(bobTablet ? [bobTablet] : [])].map((d) => d.client.close()));
  }
}
