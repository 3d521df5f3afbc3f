import assert from "node:assert/strict";
import { until } from "@parley/testkit";
import type { ChatWorld } from "./chat-scenarios.js";
import { connectDevice, type Device } from "./sdk.js";

/**
 * Mentions end to end through real WebSockets (ChatWorld is either run
 * mode). In a group of A, B and C, A mentions B (in another case than B's
 * username), C's username inside an email address, a name nobody has and
 * herself: B alone is recorded, live, in history and by sync; B's
 * conversation list counts the unread mention until B reads it; a message
 * without "@" mentions nobody; a user who is no member is not recorded.
 */
export async function mentions(world: ChatWorld, prefix: string): Promise<void> {
  const names = { a: `${prefix}_a`, b: `${prefix}_b`, c: `${prefix}_c`, d: `${prefix}_d` };
  const [a1, b1, c1, d1] = [
    await world.login(names.a, "phone"),
    await world.login(names.b, "phone"),
    await world.login(names.c, "phone"),
    await world.login(names.d, "phone"),
  ];
  const online = await Promise.all([a1, b1].map((d, i) => connectDevice(world.gatewayUrl, d.token, { format: i === 1 ? "json" : "proto" })));
  const [alice, bob] = online as [Device, Device];
  let carolPhone: Device | undefined;
  try {
    const group = (await alice.client.createGroup(`${prefix} group`, [b1.userId, c1.userId])).conversationId;
    const text = `hi @${names.b.toUpperCase()}, mail me at x@${names.c}.example, @nobody_here, @${names.a} and @${names.d}`;
    const sent = await alice.client.send(group, text);
    const plain = await alice.client.send(group, "no mentions here");
    await until(() => bob.messages.some((m) => m.messageId === plain.messageId), "both messages at bob's");
    assert.deepEqual(bob.messages.find((m) => m.messageId === sent.messageId)?.mentionedUserIds, [b1.userId], "live: B only");
    assert.deepEqual(bob.messages.find((m) => m.messageId === plain.messageId)?.mentionedUserIds, []);
    const history = (await alice.client.history(group)).messages;
    assert.deepEqual(
      history.slice(0, 2).map((m) => m.mentionedUserIds),
      [[], [b1.userId]],
    );

    // B's conversation list counts the unread mention until B reads past it.
    const summaryOf = async () => (await bob.client.listConversations()).conversations.find((s) => s.conversation?.conversationId === group);
    assert.deepEqual([(await summaryOf())?.unreadCount, (await summaryOf())?.unreadMentions], [2, 1]);
    await bob.client.markRead(group, plain.messageId);
    assert.deepEqual([(await summaryOf())?.unreadCount, (await summaryOf())?.unreadMentions], [0, 0]);
    assert.equal((await alice.client.listConversations()).conversations.find((s) => s.conversation?.conversationId === group)?.unreadMentions, 0);

    // C was offline: sync brings the message with its mentions (C is not among them).
    carolPhone = await connectDevice(world.gatewayUrl, c1.token);
    const carol = carolPhone;
    await until(() => carol.messages.some((m) => m.messageId === plain.messageId), "carol synced");
    assert.deepEqual(carol.messages.find((m) => m.messageId === sent.messageId)?.mentionedUserIds, [b1.userId]);
    assert.ok(d1.userId !== 0n);
  } finally {
    await Promise.all([...online, ...(carolPhone ? [carolPhone] : [])].map((d) => d.client.close()));
  }
}
