import assert from "node:assert/strict";
import { ParleyError } from "@parley/client";
import { Status, type UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import { until } from "@parley/testkit";
import type { ChatWorld } from "./chat-scenarios.js";
import { refusedWith } from "./refused-with.js";
import { callApi } from "./http-api.js";
import { connectDevice, type Device } from "./sdk.js";

type Watcher = Device & { presences: UserPresence[] };

async function watcher(gatewayUrl: string, token: string): Promise<Watcher> {
  const device = await connectDevice(gatewayUrl, token);
  const presences: UserPresence[] = [];
  device.client.on("presence", (presence) => presences.push(presence));
  return Object.assign(device, { presences });
}

/** The send is refused with PERMISSION_DENIED (once account's announcement has reached chat: waited for, a refused send stores nothing). */
async function sendRefused(device: Device, conversationId: bigint, message: RegExp): Promise<void> {
  await until(async () => {
    try {
      await device.client.send(conversationId, "across the block");
      assert.fail("a send across a block was accepted");
    } catch (err) {
      if (!(err instanceof ParleyError)) throw err;
      assert.equal(err.code, "PERMISSION_DENIED", err.message);
      assert.match(err.message, message);
      return true;
    }
  }, "the send to be refused");
}

/** Sends until accepted (once account's unblock announcement has reached chat). */
async function sendAccepted(device: Device, conversationId: bigint, text: string): Promise<bigint> {
  return until(async () => {
    try {
      return (await device.client.send(conversationId, text)).messageId;
    } catch (err) {
      if (err instanceof ParleyError && err.code === "PERMISSION_DENIED") return undefined;
      throw err;
    }
  }, "the send to be accepted again");
}

/**
 * Blocking end to end through real sockets (ChatWorld is either run mode).
 * A and B are friends with a direct conversation and a group with C. A
 * blocks B: sends in their direct conversation are refused both ways,
 * neither can open it again, neither sees the other's presence (and B's
 * coming online is not pushed to A), friend requests between them are
 * refused; the group goes on as before (both stay members and get each
 * other's messages). A unblocks B: everything is back. Bad input is refused
 * clearly.
 */
export async function blockAndUnblock(world: ChatWorld, prefix: string): Promise<void> {
  const api = world.gatewayUrl;
  const [a, b, c, marker] = [
    await world.login(`${prefix}_a`, "phone"),
    await world.login(`${prefix}_b`, "phone"),
    await world.login(`${prefix}_c`, "phone"),
    await world.login(`${prefix}_m`, "phone"),
  ];
  const befriend = async (x: { token: string; userId: bigint }, y: { token: string; userId: bigint }) => {
    assert.equal((await callApi(api, "AddFriend", { userId: String(y.userId) }, x.token)).status, 200);
    assert.equal((await callApi(api, "AddFriend", { userId: String(x.userId) }, y.token)).status, 200);
  };
  await befriend(a, b);
  await befriend(a, marker);
  const devices: Device[] = [];
  const open = async (token: string) => {
    const device = await watcher(world.gatewayUrl, token);
    devices.push(device);
    return device;
  };
  try {
    const alice = await open(a.token);
    let bob = await open(b.token);
    const carol = await open(c.token);
    await until(() => bob.presences.some((p) => p.userId === a.userId && p.status === Status.ONLINE), "B to see A online (friends)");

    const direct = (await alice.client.openDirect(b.userId)).conversationId;
    await alice.client.send(direct, "hi bob");
    await bob.client.send(direct, "hi alice");
    const group = (await alice.client.createGroup(`${prefix} group`, [b.userId, c.userId])).conversationId;
    await until(() => alice.messages.length >= 2 && bob.messages.length >= 2, "the direct messages");

    // A blocks B (by username); a repeat is harmless; the list shows B.
    const seenByAliceAtBlock = alice.presences.length;
    const blocked = await callApi(api, "BlockUser", { username: `${prefix}_b` }, a.token);
    assert.equal(blocked.status, 200, JSON.stringify(blocked.body));
    assert.equal(blocked.body.blocked.userId, String(b.userId));
    assert.equal((await callApi(api, "BlockUser", { userId: String(b.userId) }, a.token)).status, 200, "blocking again is harmless");
    const list = await callApi(api, "ListBlockedUsers", {}, a.token);
    assert.deepEqual(
      list.body.blockedUsers.map((x: { profile: { userId: string } }) => x.profile.userId),
      [String(b.userId)],
    );
    assert.ok(list.body.blockedUsers[0].since, "the list says since when");
    assert.deepEqual((await callApi(api, "ListBlockedUsers", {}, b.token)).body, {}, "B blocks nobody");

    // Direct sends are refused both ways; so are typing, edits, and opening the conversation again.
    await sendRefused(bob, direct, /^you cannot send messages to this user$/);
    await sendRefused(alice, direct, /^you blocked this user; unblock them to send messages$/);
    await refusedWith(bob.client.setTyping(direct), "PERMISSION_DENIED", /cannot send messages to this user/);
    await refusedWith(bob.client.openDirect(a.userId), "PERMISSION_DENIED", /^you cannot start a conversation with this user$/);
    await refusedWith(alice.client.openDirect(b.userId), "PERMISSION_DENIED", /^you blocked this user; unblock them to start a conversation$/);
    const friendRequest = await callApi(api, "AddFriend", { userId: String(a.userId) }, b.token);
    assert.deepEqual(
      [friendRequest.status, friendRequest.body.code, friendRequest.body.message],
      [403, "permission_denied", "you cannot add this user as a friend"],
    );
    // C is not involved: C and B still open and use a direct conversation.
    const other = (await carol.client.openDirect(b.userId)).conversationId;
    await carol.client.send(other, "hello b, from c");

    // Presence: neither sees the other (offline, no last-seen), whether asked or pushed.
    const [aSeenByB] = await bob.client.getPresence([a.userId]);
    assert.deepEqual([aSeenByB!.status, aSeenByB!.lastActiveAt], [Status.OFFLINE, undefined], "B sees A offline, with no last-seen time");
    const [bSeenByA] = await alice.client.getPresence([b.userId]);
    assert.deepEqual([bSeenByA!.status, bSeenByA!.lastActiveAt], [Status.OFFLINE, undefined], "A sees B offline");
    const [aSeenByC] = await carol.client.getPresence([a.userId]);
    assert.equal(aSeenByC!.status, Status.ONLINE, "others still see A online");
    // B goes away and comes back: B's new device is told nothing of A, and A is told nothing of B.
    await bob.client.close();
    bob = await open((await world.login(`${prefix}_b`, "laptop")).token);
    // The marker, a friend of A's, comes online after B: once A sees it, A would have seen B's status too.
    await open(marker.token);
    await until(() => alice.presences.some((p) => p.userId === marker.userId && p.status === Status.ONLINE), "A to see the marker online");
    assert.deepEqual(
      alice.presences.slice(seenByAliceAtBlock).filter((p) => p.userId === b.userId),
      [],
      "no status of B pushed to A after the block",
    );
    await bob.client.getPresence([c.userId]); // a round trip: B's device has its connect statuses by now
    assert.equal(
      bob.presences.some((p) => p.userId === a.userId),
      false,
      "B's new device is not told A's status",
    );

    // Groups are unaffected: both stay members and get each other's messages.
    const before = { alice: alice.messages.length, bob: bob.messages.length };
    await alice.client.send(group, "group message from A");
    await bob.client.send(group, "group message from B");
    await until(
      () => alice.messages.some((m) => m.text === "group message from B") && bob.messages.some((m) => m.text === "group message from A"),
      "each to get the other's group message",
    );
    assert.ok(alice.messages.length > before.alice && bob.messages.length > before.bob);
    assert.equal(
      alice.messages.some((m) => m.conversationId === direct && m.text === "across the block"),
      false,
      "nothing crossed the block",
    );

    // Bad input, each clearly refused.
    const self = await callApi(api, "BlockUser", { userId: String(a.userId) }, a.token);
    assert.deepEqual([self.status, self.body.message], [400, "user cannot be yourself"]);
    const unknown = await callApi(api, "BlockUser", { username: `${prefix}_nobody` }, a.token);
    assert.deepEqual([unknown.status, unknown.body.code], [404, "not_found"]);
    const neither = await callApi(api, "BlockUser", {}, a.token);
    assert.deepEqual([neither.status, neither.body.message], [400, "user is required (user_id or username)"]);
    const noId = await callApi(api, "UnblockUser", {}, a.token);
    assert.deepEqual([noId.status, noId.body.message], [400, "user_id is required"]);
    const anonymous = await callApi(api, "BlockUser", { userId: String(b.userId) });
    assert.equal(anonymous.status, 401);
    assert.deepEqual((await callApi(api, "UnblockUser", { userId: String(a.userId) }, b.token)).body, {}, "B never blocked A: was_blocked false");

    // A unblocks B: everything is back.
    const unblocked = await callApi(api, "UnblockUser", { userId: String(b.userId) }, a.token);
    assert.deepEqual(unblocked.body, { wasBlocked: true });
    assert.deepEqual((await callApi(api, "ListBlockedUsers", {}, a.token)).body, {});
    await sendAccepted(bob, direct, "back again");
    await sendAccepted(alice, direct, "welcome back");
    assert.equal((await bob.client.openDirect(a.userId)).conversationId, direct);
    await until(
      () => alice.messages.some((m) => m.text === "back again") && bob.messages.some((m) => m.text === "welcome back"),
      "the messages after the unblock",
    );
    const [aAgain] = await bob.client.getPresence([a.userId]);
    assert.equal(aAgain!.status, Status.ONLINE, "B sees A online again");
    assert.ok(aAgain!.lastActiveAt !== undefined || aAgain!.status === Status.ONLINE);
    // A new device of B's follows A again (the friendship was only suspended).
    const bobTablet = await open((await world.login(`${prefix}_b`, "tablet")).token);
    await until(() => bobTablet.presences.some((p) => p.userId === a.userId && p.status === Status.ONLINE), "B's tablet to see A online");
  } finally {
    await Promise.all(devices.map((d) => d.client.close()));
  }
}
