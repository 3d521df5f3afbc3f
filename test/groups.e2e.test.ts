import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ParleyError } from "@parley/client";
import { MemberRole } from "@parley/contracts/parley/chat/v1/chat";
import { createThrowawayDatabase, until, type ThrowawayDatabase } from "@parley/testkit";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { connectDevice, type Device } from "./support/sdk.js";

async function refused(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ParleyError, String(err));
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

const texts = (d: Device, conversationId: bigint) => d.messages.filter((m) => m.conversationId === conversationId && m.text !== "").map((m) => m.text);

describe("group chat through the gateway, on Postgres", () => {
  let database: ThrowawayDatabase;
  let p: EmbeddedParley;
  const devices: Device[] = [];
  const connect = async (username: string, deviceName = "phone") => {
    const user = await p.user(username, deviceName).catch(() => p.logIn(username, deviceName));
    const device = await connectDevice(p.url, user.token);
    devices.push(device);
    return { ...user, device };
  };

  before(async () => {
    database = await createThrowawayDatabase("parley_groups");
    p = await startParley({ DATABASE_URL: database.url, GATEWAY_FRAMES_PER_SECOND: "10000", GATEWAY_FRAME_BURST: "10000" });
  });
  after(async () => {
    await Promise.all(devices.map((d) => d.client.close()));
    await p?.close();
    await database?.drop();
  });

  it("delivers one message to all 100 members' connected devices, once each", async () => {
    const members = [];
    for (let i = 0; i < 100; i++) members.push(await connect(`big_${i}`));
    const owner = members[0]!;
    const group = await owner.device.client.createGroup(
      "the hundred",
      members.slice(1).map((m) => m.userId),
    );
    assert.equal(group.members.length, 100);
    const ack = await owner.device.client.send(group.conversationId, "hello, everyone");
    for (const member of members) {
      await until(() => member.device.messages.some((m) => m.messageId === ack.messageId), "every member to get the message");
    }
    // A marker after it: each member's entries arrive in order, so a second copy would come before the marker.
    const marker = await owner.device.client.send(group.conversationId, "marker");
    for (const member of members) {
      await until(() => member.device.messages.some((m) => m.messageId === marker.messageId), "every member to get the marker");
    }
    for (const member of members) {
      assert.equal(member.device.messages.filter((m) => m.messageId === ack.messageId).length, 1, "exactly once");
    }
  });

  it("holds the 100-member cap under 20 concurrent adds to a group of 95", async () => {
    const owner = await connect("cap_owner");
    const users = [];
    for (let i = 0; i < 114; i++) users.push(await p.user(`cap_${i}`));
    const group = await owner.device.client.createGroup(
      "almost full",
      users.slice(0, 94).map((u) => u.userId),
    );
    assert.equal(group.members.length, 95);
    const results = await Promise.allSettled(users.slice(94).map((u) => owner.device.client.addMembers(group.conversationId, [u.userId])));
    const refusals = results.filter((r) => r.status === "rejected");
    assert.equal(results.length - refusals.length, 5);
    for (const r of refusals) {
      assert.equal((r.reason as ParleyError).code, "FAILED_PRECONDITION");
      assert.match((r.reason as ParleyError).message, /at most 100 members/);
    }
    assert.equal((await owner.device.client.getConversation(group.conversationId)).members.length, 100);
  });

  it("never delivers to a non-member and never skips a member while people join and leave", async () => {
    const ann = await connect("flow_ann");
    const ben = await connect("flow_ben");
    const cat = await connect("flow_cat");
    const dan = await connect("flow_dan");
    const group = await ann.device.client.createGroup("flow", [ben.userId, cat.userId]);
    const sent: { id: bigint; text: string }[] = [];
    const sendSome = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const ack = await ann.device.client.send(group.conversationId, `flow ${i}`);
        sent.push({ id: ack.messageId, text: `flow ${i}` });
      }
    };
    const flowing = sendSome(0, 60);
    await until(() => sent.length >= 15, "15 messages sent");
    await ann.device.client.removeMember(group.conversationId, cat.userId);
    await until(() => sent.length >= 30, "30 messages sent");
    await ann.device.client.addMembers(group.conversationId, [dan.userId]);
    await flowing;
    await ben.device.received(1); // at least started
    await until(() => texts(ben.device, group.conversationId).length === 60, "ben to get all 60 messages");

    const history = await ann.device.client.history(group.conversationId, { limit: 200 });
    const system = history.messages.filter((m) => m.system !== undefined);
    const removedAt = system.find((m) => m.system!.event.case === "memberRemoved")!.messageId;
    const addedAt = system.find((m) => m.system!.event.case === "membersAdded")!.messageId;
    await until(() => dan.device.messages.some((m) => m.messageId === addedAt), "dan to see that he was added");
    // Markers sent after the flow, one to each device's inbox: entries arrive in order, so once
    // a device has its marker, every flow message that was to reach it has arrived.
    const groupMarker = await ann.device.client.send(group.conversationId, "flow end");
    const catMarker = await ann.device.client.send((await ann.device.client.openDirect(cat.userId)).conversationId, "flow end");
    const markerAt = (device: Device, messageId: bigint) => until(() => device.messages.some((m) => m.messageId === messageId), "a device's marker");
    await Promise.all([markerAt(ben.device, groupMarker.messageId), markerAt(dan.device, groupMarker.messageId), markerAt(cat.device, catMarker.messageId)]);
    // Ben's inbox order is the conversation's commit order (both take the group's row lock):
    // what came before the removal is what Cat was a member for; after the addition, Dan's.
    const benOrder = ben.device.messages.filter((m) => m.conversationId === group.conversationId);
    const cut = (id: bigint) => benOrder.findIndex((m) => m.messageId === id);
    const plain = (list: typeof benOrder) => list.filter((m) => m.text !== "").map((m) => m.text);
    assert.deepEqual(texts(cat.device, group.conversationId), plain(benOrder.slice(0, cut(removedAt))), "cat got exactly what was sent while a member");
    assert.deepEqual(texts(dan.device, group.conversationId), plain(benOrder.slice(cut(addedAt) + 1)), "dan got exactly what was sent after joining");
    assert.ok(
      plain(benOrder.slice(0, cut(removedAt))).length > 0 && plain(benOrder.slice(cut(addedAt) + 1)).length > 0,
      "messages flowed on both sides of the changes",
    );
    void sent;
    assert.ok(
      cat.device.messages.some((m) => m.messageId === removedAt),
      "the removed member learns of the removal",
    );
    await refused(cat.device.client.history(group.conversationId), "PERMISSION_DENIED");
    await refused(cat.device.client.send(group.conversationId, "still here?"), "PERMISSION_DENIED");
    const danHistory = await dan.device.client.history(group.conversationId, { limit: 200 });
    assert.ok(
      danHistory.messages.every((m) => m.messageId >= addedAt),
      "history before joining stays hidden by default",
    );
  });

  it("keeps receipts and unread counts right across a member's two devices, live", async () => {
    const amy = await connect("rcpt_amy");
    const bobPhone = await connect("rcpt_bob", "phone");
    const bobLaptop = await connect("rcpt_bob", "laptop");
    const group = await amy.device.client.createGroup("receipts", [bobPhone.userId]);
    const acks = [];
    for (let i = 0; i < 3; i++) acks.push(await amy.device.client.send(group.conversationId, `r${i}`));
    await until(
      () => texts(bobPhone.device, group.conversationId).length === 3 && texts(bobLaptop.device, group.conversationId).length === 3,
      "the 3 messages on both of bob's devices",
    );
    const unread = async (d: Device) =>
      (await d.client.listConversations()).conversations.find((c) => c.conversation!.conversationId === group.conversationId)!.unreadCount;
    assert.equal(await unread(bobPhone.device), 3);
    await bobLaptop.device.client.markRead(group.conversationId, acks[2]!.messageId);
    await until(
      () => bobPhone.device.reads.some((r) => r.conversationId === group.conversationId && r.userId === bobPhone.userId),
      "the laptop's read receipt on the phone",
    );
    assert.equal(await unread(bobPhone.device), 0, "reading on the laptop clears the phone's count");
    await until(() => amy.device.reads.some((r) => r.conversationId === group.conversationId), "bob's read receipt at amy");
    const receipts = await amy.device.client.getReceipts(group.conversationId, acks[2]!.messageId);
    assert.deepEqual(
      receipts.map((r) => [r.userId, r.read]),
      [[bobPhone.userId, true]],
    );
  });

  it("refuses bad group changes with clear errors and changes nothing", async () => {
    const own = await connect("bad_owner");
    const mem = await connect("bad_member");
    const out = await connect("bad_outsider");
    const client = own.device.client;
    await refused(client.createGroup("", [mem.userId]), "INVALID_ARGUMENT", /name must not be empty/);
    await refused(client.createGroup("x".repeat(101), [mem.userId]), "INVALID_ARGUMENT", /at most 100/);
    await refused(
      client.createGroup(
        "too big",
        Array.from({ length: 100 }, (_, i) => BigInt(i + 1_000_000)),
      ),
      "FAILED_PRECONDITION",
      /at most 100 members/,
    );
    const group = await client.createGroup("rules", [mem.userId]);
    const before = await client.history(group.conversationId, { limit: 50 });
    await refused(client.addMembers(group.conversationId, [out.userId, 999_999_999n]), "NOT_FOUND", /999999999/);
    await refused(client.addMembers(group.conversationId, [mem.userId]), "ALREADY_EXISTS");
    await refused(mem.device.client.removeMember(group.conversationId, own.userId), "PERMISSION_DENIED");
    await refused(mem.device.client.addMembers(group.conversationId, [out.userId]), "PERMISSION_DENIED");
    await refused(out.device.client.send(group.conversationId, "let me in"), "PERMISSION_DENIED");
    await refused(out.device.client.history(group.conversationId), "PERMISSION_DENIED");
    await refused(client.removeMember(group.conversationId, own.userId), "FAILED_PRECONDITION", /hand ownership over/);
    const after = await client.getConversation(group.conversationId);
    assert.deepEqual(after.members.map((m) => m.userId).sort(), [own.userId, mem.userId].sort(), "membership unchanged");
    assert.equal((await client.history(group.conversationId, { limit: 50 })).messages.length, before.messages.length, "no system message either");
    // Handing ownership over, then leaving, works.
    await client.setMemberRole(group.conversationId, mem.userId, MemberRole.OWNER);
    await client.removeMember(group.conversationId, own.userId);
    const final = await mem.device.client.getConversation(group.conversationId);
    assert.deepEqual(
      final.members.map((m) => [m.userId, m.role]),
      [[mem.userId, MemberRole.OWNER]],
    );
  });
});
