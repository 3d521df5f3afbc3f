import assert from "node:assert/strict";
import { ParleyError } from "@parley/client";
import { until } from "@parley/testkit";
import { castOfFour } from "./cast.js";
import type { ChatWorld } from "./chat-scenarios.js";
import { refusedWith } from "./refused-with.js";
import { connectDevice, type Device } from "./sdk.js";

const ids = (device: Device, kind: "edits" | "deletions") => device[kind].map((x) => x.messageId);

/**
 * Edits and deletions end to end through real WebSockets (ChatWorld is either
 * run mode). The chat service must run with an edit window of
 * `editWindowSeconds`, short enough to pass during the scenario (its last
 * step waits for a refused late edit), long enough for the edits before it.
 *
 * A's phone and laptop and B's phone are online; B's tablet logs in only at
 * the end, to learn everything by sync. A edits a message and deletes
 * another for everyone, B deletes one for himself only; every device shows
 * each change once; history shows the edited mark and the tombstone and
 * leaves B's deleted-for-himself message out for him only; every bad input
 * is answered with its code and a clear message.
 */
export async function editAndDelete(world: ChatWorld, prefix: string): Promise<void> {
  const { a1, b1, c1, alice, aliceLaptop, bob, carol, online } = await castOfFour(world, prefix);
  let bobTablet: Device | undefined;
  try {
    const id = (await alice.client.openDirect(b1.userId)).conversationId;
    const late = await alice.client.send(id, "edited too late");
    const typo = await alice.client.send(id, "helo");
    const secret = await alice.client.send(id, "my secret");
    const bobs = await bob.client.send(id, "bob's own");
    for (const device of [alice, aliceLaptop, bob]) await device.received(4);

    // A live edit reaches the other member and the author's other device, once each.
    const edited = await alice.client.editMessage(id, typo.messageId, "hello");
    assert.equal(edited.unchanged, false);
    assert.ok(edited.seq > typo.seq && edited.message?.editedAt !== undefined && edited.message.text === "hello");
    await until(() => [alice, aliceLaptop, bob].every((d) => d.edits.length === 1), "the edit on every online device");
    for (const device of [alice, aliceLaptop, bob]) assert.deepEqual([device.edits[0]!.messageId, device.edits[0]!.text], [typo.messageId, "hello"]);
    assert.deepEqual(await alice.client.editMessage(id, typo.messageId, "hello").then((r) => [r.unchanged, r.seq]), [true, 0n], "a repeated edit");

    // A deletes a message for everyone: every device learns it; a repeat stores nothing.
    const deleted = await alice.client.deleteMessage(id, secret.messageId, { forEveryone: true });
    assert.equal(deleted.unchanged, false);
    await until(() => [alice, aliceLaptop, bob].every((d) => d.deletions.length === 1), "the deletion on every online device");
    for (const device of [alice, aliceLaptop, bob]) {
      const [deletion] = device.deletions;
      assert.deepEqual([deletion!.messageId, deletion!.forEveryone, deletion!.byUserId], [secret.messageId, true, a1.userId]);
    }
    assert.deepEqual(await alice.client.deleteMessage(id, secret.messageId, { forEveryone: true }).then((r) => [r.unchanged, r.seq]), [true, 0n]);

    // B deletes his own message for himself only: his devices learn it, A's do not (A's next entry comes without it).
    const hidden = await bob.client.deleteMessage(id, bobs.messageId, { forEveryone: false });
    assert.equal(hidden.unchanged, false);
    await until(() => bob.deletions.length === 2, "the deletion for B only on B's phone");
    assert.deepEqual([bob.deletions[1]!.messageId, bob.deletions[1]!.forEveryone], [bobs.messageId, false]);
    await bob.client.send(id, "after");
    await alice.received(5);
    await aliceLaptop.received(5);
    assert.deepEqual(ids(alice, "deletions"), [secret.messageId], "a deletion for B alone never reaches A");

    // History: the latest text with its edited mark, the tombstone without text, B's hidden message gone for him only.
    const bobHistory = (await bob.client.history(id)).messages;
    assert.deepEqual(
      bobHistory.map((m) => [m.text, m.deleted, m.editedAt !== undefined]),
      [
        ["after", false, false],
        ["", true, false],
        ["hello", false, true],
        ["edited too late", false, false],
      ],
    );
    const aliceHistory = (await alice.client.history(id)).messages;
    assert.deepEqual(
      aliceHistory.map((m) => m.text),
      ["after", "bob's own", "", "hello", "edited too late"],
    );
    assert.ok(aliceHistory[2]!.deleted && aliceHistory[2]!.deletedAt !== undefined);

    // B's tablet was offline throughout: sync brings every change, once, and never the deleted text.
    bobTablet = await connectDevice(world.gatewayUrl, (await world.login(`${prefix}_b`, "tablet")).token);
    const tablet = bobTablet;
    await until(() => tablet.messages.length === 5 && tablet.edits.length === 1 && tablet.deletions.length === 2, "the tablet synced");
    assert.deepEqual(ids(tablet, "edits"), [typo.messageId]);
    assert.deepEqual(
      tablet.deletions.map((d) => [d.messageId, d.forEveryone]),
      [
        [secret.messageId, true],
        [bobs.messageId, false],
      ],
    );
    const synced = new Map(tablet.messages.map((m) => [m.messageId, m]));
    assert.equal(synced.get(typo.messageId)!.text, "hello", "the original entry already shows the edit");
    assert.deepEqual([synced.get(secret.messageId)!.text, synced.get(secret.messageId)!.deleted], ["", true], "no deleted text reaches a syncing device");
    assert.deepEqual([synced.get(bobs.messageId)!.text, synced.get(bobs.messageId)!.deleted], ["", true], "nor a message B deleted for himself");

    // Bad input, each with its code and a message that says what is wrong.
    await refusedWith(bob.client.editMessage(id, typo.messageId, "not mine"), "PERMISSION_DENIED", /only your own messages/);
    await refusedWith(bob.client.deleteMessage(id, typo.messageId, { forEveryone: true }), "PERMISSION_DENIED", /only your own messages for everyone/);
    await refusedWith(alice.client.editMessage(id, secret.messageId, "revived"), "INVALID_ARGUMENT", /deleted message/);
    await refusedWith(alice.client.editMessage(id, typo.messageId, ""), "INVALID_ARGUMENT", /^text must not be empty/);
    await refusedWith(alice.client.editMessage(id, typo.messageId, "x".repeat(100_001)), "INVALID_ARGUMENT", /at most 100000 characters/);
    await refusedWith(alice.client.editMessage(id, typo.messageId + 1_000_000n, "nothing"), "NOT_FOUND", /no message with id/);
    await refusedWith(alice.client.editMessage(id, 0n, "nothing"), "INVALID_ARGUMENT", /message_id is required/);
    const elsewhere = (await alice.client.openDirect(c1.userId)).conversationId;
    const there = await alice.client.send(elsewhere, "in another conversation");
    await refusedWith(alice.client.editMessage(id, there.messageId, "wrong conversation"), "NOT_FOUND", /no message with id/);
    await refusedWith(carol.client.deleteMessage(id, typo.messageId, { forEveryone: false }), "PERMISSION_DENIED", /not a member/);
    const group = await alice.client.createGroup(`${prefix} group`, [c1.userId]);
    const carols = await carol.client.send(group.conversationId, "carol's, before leaving");
    await carol.client.removeMember(group.conversationId, c1.userId);
    await refusedWith(carol.client.editMessage(group.conversationId, carols.messageId, "after leaving"), "PERMISSION_DENIED", /not a member/);
    await refusedWith(carol.client.deleteMessage(group.conversationId, carols.messageId, { forEveryone: true }), "PERMISSION_DENIED", /not a member/);

    // The edit window: once it has passed, an edit is refused (polled until then, never a fixed sleep).
    let attempt = 0;
    await until(
      async () => {
        try {
          await alice.client.editMessage(id, late.messageId, `edited too late ${++attempt}`);
          return false;
        } catch (err) {
          if (!(err instanceof ParleyError && err.code === "FAILED_PRECONDITION")) throw err;
          assert.match(err.message, /edit window \(\d+ seconds after sending\) of this message has passed/);
          return true;
        }
      },
      "the edit window to pass",
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  } finally {
    await Promise.all([...online, ...(bobTablet ? [bobTablet] : [])].map((d) => d.client.close()));
  }
}
