import assert from "node:assert/strict";
import type { ChatWorld } from "./chat-scenarios.js";
import { refusedWith } from "./refused-with.js";
import { connectDevice, type Device } from "./sdk.js";

/**
 * Search end to end through real WebSockets (ChatWorld is either run mode).
 * A and B share a direct conversation and a group that C joins later (its
 * earlier history hidden from new members). Each search answers only what
 * the searching user's history shows: newest first across conversations,
 * paged, filtered by conversation, the words whole in any case, with a
 * snippet; edits and deletions change the answers as soon as they are
 * acknowledged (no waiting: the index is written in the same transaction);
 * leaving a group takes its messages out; bad input is refused naming the
 * field. B's device speaks the JSON subprotocol, the others protobuf.
 */
export async function searchMessages(world: ChatWorld, prefix: string): Promise<void> {
  const [a1, b1, c1] = [await world.login(`${prefix}_a`, "phone"), await world.login(`${prefix}_b`, "phone"), await world.login(`${prefix}_c`, "phone")];
  const online = await Promise.all([a1, b1, c1].map((d, i) => connectDevice(world.gatewayUrl, d.token, { format: i === 1 ? "json" : "proto" })));
  const [alice, bob, carol] = online as [Device, Device, Device];
  try {
    const direct = (await alice.client.openDirect(b1.userId)).conversationId;
    const group = (await alice.client.createGroup(`${prefix} team`, [b1.userId], { historyVisibleToNewMembers: false })).conversationId;
    const noon = await alice.client.send(direct, "Lunch at noon? 🍜");
    const plans = await alice.client.send(group, "Team lunch plans for Friday");
    await bob.client.send(direct, "launch is not lunch-time");
    await alice.client.addMembers(group, [c1.userId]);
    const again = await bob.client.send(group, "LUNCH again, with Carol");
    const searchIds = async (device: Device, query: string, options: Parameters<Device["client"]["searchMessages"]>[1] = {}) =>
      (await device.client.searchMessages(query, options)).hits.map((hit) => hit.message?.messageId);

    // Newest first across both conversations, whole words in any case; "lunch-time" holds the word lunch too.
    const lunch = await bob.client.searchMessages("lunch");
    assert.equal(lunch.hits.length, 4);
    assert.deepEqual(
      lunch.hits.map((hit) => hit.message?.text),
      ["LUNCH again, with Carol", "launch is not lunch-time", "Team lunch plans for Friday", "Lunch at noon? 🍜"],
    );
    const [first] = lunch.hits;
    assert.deepEqual([first!.snippet, first!.highlights.map((h) => [h.start, h.length])], ["LUNCH again, with Carol", [[0, 5]]]);
    assert.equal(lunch.nextBeforeMessageId, 0n, "one page");
    assert.deepEqual(await searchIds(bob, "Noon LUNCH"), [noon.messageId], "every word must be there");

    // Paged and filtered.
    const page1 = await bob.client.searchMessages("lunch", { limit: 3 });
    assert.equal(page1.hits.length, 3);
    assert.deepEqual(await searchIds(bob, "lunch", { beforeMessageId: page1.nextBeforeMessageId }), [noon.messageId]);
    assert.deepEqual(await searchIds(bob, "lunch", { conversationId: group }), [again.messageId, plans.messageId]);

    // C joined later: the group's earlier history is not C's to find.
    assert.deepEqual(await searchIds(carol, "lunch"), [again.messageId]);

    // Edits and deletions count from their acknowledgement on.
    await alice.client.editMessage(direct, noon.messageId, "Dinner at eight?");
    assert.deepEqual(await searchIds(bob, "dinner"), [noon.messageId]);
    assert.deepEqual(await searchIds(bob, "noon"), []);
    await alice.client.deleteMessage(group, plans.messageId, { forEveryone: true });
    await bob.client.deleteMessage(group, again.messageId, { forEveryone: false });
    assert.deepEqual(await searchIds(bob, "lunch"), [lunch.hits[1]!.message?.messageId], "deleted for everyone, and by B for himself");
    assert.deepEqual(await searchIds(alice, "lunch"), [again.messageId, lunch.hits[1]!.message?.messageId], "B's deletion for himself is his alone");

    // Leaving a group takes its messages out of one's search.
    await carol.client.removeMember(group, c1.userId);
    assert.deepEqual(await searchIds(carol, "lunch"), []);

    // Bad input, each refused naming the field.
    await refusedWith(bob.client.searchMessages(""), "INVALID_ARGUMENT", /^query must not be empty/);
    await refusedWith(bob.client.searchMessages("x".repeat(201)), "INVALID_ARGUMENT", /^query must be at most 200 characters/);
    await refusedWith(bob.client.searchMessages("a b c d e f g h i j k"), "INVALID_ARGUMENT", /^query must have at most 10 words/);
    await refusedWith(bob.client.searchMessages("?!"), "INVALID_ARGUMENT", /^query must contain a word/);
    await refusedWith(bob.client.searchMessages("lunch", { limit: 51 }), "INVALID_ARGUMENT", /^limit must be at most 50/);
    await refusedWith(carol.client.searchMessages("lunch", { conversationId: direct }), "PERMISSION_DENIED", /not a member/);
    await refusedWith(carol.client.searchMessages("lunch", { conversationId: group }), "PERMISSION_DENIED", /not a member/);
  } finally {
    await Promise.all(online.map((d) => d.client.close()));
  }
}
