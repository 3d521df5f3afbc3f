import assert from "node:assert/strict";
import type { ParleyClient } from "@parley/client";
import { until } from "@parley/testkit";
import { connectDevice, type Device } from "./sdk.js";
import { RawSocket } from "./raw-socket.js";

export interface ChatWorld {
  gatewayUrl: string;
  /** Signs up (first call) and logs in a device of `username`. */
  login(username: string, deviceName: string): Promise<{ token: string; userId: bigint }>;
}

const texts = (device: Device, conversationId: bigint) => device.messages.filter((m) => m.conversationId === conversationId).map((m) => m.text);

/** A and B chat both ways: order kept, acks with ids and seqs. */
export async function chatBothWays(world: ChatWorld, prefix: string): Promise<void> {
  const a = await world.login(`${prefix}_a`, "phone");
  const b = await world.login(`${prefix}_b`, "phone");
  const alice = await connectDevice(world.gatewayUrl, a.token);
  const bob = await connectDevice(world.gatewayUrl, b.token, { format: "json" });
  try {
    const conversation = await alice.client.openDirect(b.userId);
    const acks = [];
    for (let i = 0; i < 20; i++) {
      const from = i % 2 === 0 ? alice.client : bob.client;
      acks.push(await from.send(conversation.conversationId, `message ${i}`));
    }
    for (const ack of acks) {
      assert.equal(ack.conversationId, conversation.conversationId);
      assert.ok(ack.messageId > 0n && ack.seq > 0n);
    }
    const ids = acks.map((ack) => ack.messageId);
    assert.deepEqual(
      [...ids].sort((x, y) => (x < y ? -1 : 1)),
      ids,
      "message ids follow send order",
    );
    await alice.received(20);
    await bob.received(20);
    const expected = Array.from({ length: 20 }, (_, i) => `message ${i}`);
    assert.deepEqual(texts(alice, conversation.conversationId), expected);
    assert.deepEqual(texts(bob, conversation.conversationId), expected);
    const history = await bob.client.history(conversation.conversationId, { limit: 20 });
    assert.deepEqual(history.messages.map((m) => m.text).reverse(), expected);
  } finally {
    await Promise.all([alice.client.close(), bob.client.close()]);
  }
}

/** B's phone and laptop both get every message live; A's second device sees A's own sends. */
export async function multiDevice(world: ChatWorld, prefix: string): Promise<void> {
  const a1 = await world.login(`${prefix}_a`, "phone");
  const a2 = await world.login(`${prefix}_a`, "laptop");
  const b1 = await world.login(`${prefix}_b`, "phone");
  const b2 = await world.login(`${prefix}_b`, "laptop");
  const devices = await Promise.all([a1, a2, b1, b2].map((d) => connectDevice(world.gatewayUrl, d.token)));
  const [alicePhone, aliceLaptop, bobPhone, bobLaptop] = devices as [Device, Device, Device, Device];
  try {
    const conversation = await alicePhone.client.openDirect(b1.userId);
    for (let i = 0; i < 10; i++) await alicePhone.client.send(conversation.conversationId, `hello ${i}`);
    await bobLaptop.client.send(conversation.conversationId, "from the laptop");
    for (const device of devices) await device.received(11);
    const expected = [...Array.from({ length: 10 }, (_, i) => `hello ${i}`), "from the laptop"];
    for (const device of devices) assert.deepEqual(texts(device, conversation.conversationId), expected);
    // Reading on one device reaches the other devices and the other party as a read receipt.
    const last = bobPhone.messages.at(-1)!;
    await bobPhone.client.markRead(conversation.conversationId, last.messageId);
    await until(() => bobLaptop.reads.length > 0 && alicePhone.reads.length > 0, "the read receipt on bob's laptop and at alice");
    assert.equal(bobLaptop.reads[0]!.messageId, last.messageId);
    assert.equal(alicePhone.reads[0]!.userId, b1.userId);
    void aliceLaptop;
  } finally {
    await Promise.all(devices.map((d) => d.client.close()));
  }
}

/** B is offline while A sends 500 messages; B connects and gets all 500, once each, in order. */
export async function offlineCatchUp(world: ChatWorld, prefix: string): Promise<void> {
  const a = await world.login(`${prefix}_a`, "phone");
  const b = await world.login(`${prefix}_b`, "phone");
  const alice = await connectDevice(world.gatewayUrl, a.token);
  try {
    const conversation = await alice.client.openDirect(b.userId);
    await Promise.all(Array.from({ length: 500 }, (_, i) => alice.client.send(conversation.conversationId, `offline ${i}`)));
    const bob = await connectDevice(world.gatewayUrl, b.token);
    try {
      await bob.received(500);
      // A marker sent after the 500: B's entries arrive in order, so a duplicate of any of them would come before it.
      const marker = await alice.client.send(conversation.conversationId, "marker");
      await until(() => bob.messages.some((m) => m.messageId === marker.messageId), "the marker at bob");
      const got = texts(bob, conversation.conversationId);
      assert.equal(got.length, 501, "each message exactly once");
      assert.equal(got.at(-1), "marker");
      assert.equal(new Set(bob.messages.map((m) => m.messageId)).size, 501);
      const ids = bob.messages.map((m) => m.messageId);
      assert.deepEqual(
        [...ids].sort((x, y) => (x < y ? -1 : 1)),
        ids,
        "in order",
      );
      assert.equal(bob.client.cursor, 501n);
    } finally {
      await bob.client.close();
    }
  } finally {
    await alice.client.close();
  }
}

/** A sends, the connection drops before the ack, A retries with the same client_msg_id: one message. */
export async function retryAfterDrop(world: ChatWorld, prefix: string): Promise<void> {
  const a = await world.login(`${prefix}_a`, "phone");
  const b = await world.login(`${prefix}_b`, "phone");
  const alice = await connectDevice(world.gatewayUrl, a.token);
  try {
    const conversation = await alice.client.openDirect(b.userId);
    const raw = await RawSocket.open(`${world.gatewayUrl.replace(/^http/, "ws")}/ws`, a.token);
    await raw.next((f) => f.body.case === "welcome");
    raw.send({ id: 1n, body: { case: "send", value: { conversationId: conversation.conversationId, clientMsgId: "dropped-1", text: "did it arrive?" } } });
    raw.ws.terminate(); // gone before reading any ack
    const retry = await alice.client.send(conversation.conversationId, "did it arrive?", { clientMsgId: "dropped-1" });
    const history = await alice.client.history(conversation.conversationId);
    assert.equal(history.messages.filter((m) => m.clientMsgId === "dropped-1").length, 1, "exactly one message");
    assert.equal(history.messages.find((m) => m.clientMsgId === "dropped-1")!.messageId, retry.messageId);
  } finally {
    await alice.client.close();
  }
}

export type { ParleyClient };
