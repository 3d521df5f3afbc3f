import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { until } from "@parley/testkit";
import WebSocket from "ws";
import { callApi } from "./support/http-api.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { RawSocket } from "./support/raw-socket.js";

/** The HTTP status and body of a refused upgrade (RawSocket only reports the status). */
function refusal(url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ["parley.v1.proto"], { headers: { authorization: `Bearer ${token}` } });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once("open", () => {
      ws.close();
      reject(new Error("the upgrade was accepted"));
    });
    ws.once("error", () => {});
  });
}

async function opened(url: string, token: string): Promise<RawSocket> {
  const s = await RawSocket.open(url, token);
  await s.next((f) => f.body.case === "welcome");
  return s;
}

async function openDirect(s: RawSocket, peerUserId: bigint, id: bigint): Promise<bigint> {
  s.send({ id, body: { case: "openDirect", value: { peerUserId } } });
  const reply = await s.reply(id);
  assert.equal(reply.body.case, "openDirect");
  assert.ok(reply.body.case === "openDirect");
  return reply.body.value.conversation!.conversationId;
}

/** Sends many frames in one write, so the gateway reads them in one go (as a flood arrives). */
function burst(s: RawSocket, frames: Parameters<RawSocket["send"]>[0][]): void {
  const socket = (s.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
  socket.cork();
  for (const frame of frames) s.send(frame);
  socket.uncork();
}

const sendFrame = (id: bigint, conversationId: bigint, text: string) => ({
  id,
  body: { case: "send" as const, value: { conversationId, clientMsgId: `m-${text}`, text } },
});

describe("one user's frame budget (embedded mode, real sockets)", () => {
  let p: EmbeddedParley;
  before(async () => {
    p = await startParley({ GATEWAY_FRAMES_PER_SECOND: "1", GATEWAY_FRAME_BURST: "4" });
  });
  after(() => p?.close());

  it("shares one frame budget among all the sockets of a user, on every device", async () => {
    const phone = await p.user("budget", "phone");
    const laptop = await p.logIn("budget", "laptop");
    const sockets = [await opened(p.wsUrl, phone.token), await opened(p.wsUrl, phone.token), await opened(p.wsUrl, laptop.token)];
    // Three frames from each socket: nine in all, more than the user's burst of four.
    for (const s of sockets) for (let i = 1n; i <= 3n; i++) s.send({ id: i, body: { case: "heartbeat", value: {} } });
    const answers: ServerFrame[] = [];
    for (const s of sockets) for (let i = 0; i < 3; i++) answers.push(await s.next((f) => f.body.case === "pong" || f.body.case === "error"));
    const refused = answers.filter((f) => f.body.case === "error");
    assert.ok(refused.length >= 4, `expected most of the 9 frames refused, got ${refused.length} refusals`);
    for (const f of refused) {
      assert.ok(f.body.case === "error");
      assert.equal(f.body.value.code, "RESOURCE_EXHAUSTED");
      assert.match(f.body.value.message, /at most 1 per second per user/);
    }
    for (const s of sockets) s.close();
  });

  it("refuses new sockets of a user closed for flooding with 429 until their budget has refilled", async () => {
    const user = await p.user("reconnecter");
    const s = await opened(p.wsUrl, user.token);
    for (let i = 1n; i <= 20n; i++) s.send({ id: i, body: { case: "heartbeat", value: {} } });
    assert.equal((await s.closedWith()).code, 4002);
    const refused = await refusal(p.wsUrl, user.token);
    assert.equal(refused.status, 429);
    assert.match(refused.body, /closed for flooding; reconnect in [1-4] s/);
    // Four frames' worth at one a second: back within about four seconds.
    await until(
      async () =>
        await RawSocket.open(p.wsUrl, user.token).then(
          (r) => {
            r.close();
            return true;
          },
          () => false,
        ),
      "the reconnect allowed",
    );
  });
});

describe("socket caps per device and per user (embedded mode, real sockets)", () => {
  let p: EmbeddedParley;
  before(async () => {
    p = await startParley({ GATEWAY_MAX_SOCKETS_PER_DEVICE: "2", GATEWAY_MAX_SOCKETS_PER_USER: "3" });
  });
  after(() => p?.close());

  it("refuses a device's socket beyond the per-device cap with 429 naming the cap, and takes one again after a socket closes", async () => {
    const phone = await p.user("tokenreuse", "phone");
    const first = await opened(p.wsUrl, phone.token);
    const second = await opened(p.wsUrl, phone.token);
    const refused = await refusal(p.wsUrl, phone.token);
    assert.equal(refused.status, 429);
    assert.match(refused.body, /too many connections for this device: at most 2/);
    first.close();
    await first.closedWith();
    await until(
      async () =>
        await RawSocket.open(p.wsUrl, phone.token).then(
          (s) => {
            s.close();
            return true;
          },
          () => false,
        ),
      "a place for the device",
    );
    second.close();
  });

  it("refuses a user's socket beyond the per-user cap with 429, over all their devices", async () => {
    const phone = await p.user("manydevices", "phone");
    const laptop = await p.logIn("manydevices", "laptop");
    const tablet = await p.logIn("manydevices", "tablet");
    const held = [await opened(p.wsUrl, phone.token), await opened(p.wsUrl, phone.token), await opened(p.wsUrl, laptop.token)];
    const refused = await refusal(p.wsUrl, tablet.token);
    assert.equal(refused.status, 429);
    assert.match(refused.body, /too many connections for this account: at most 3/);
    // Another user is not affected.
    const other = await p.user("bystander");
    (await opened(p.wsUrl, other.token)).close();
    for (const s of held) s.close();
  });
});

describe("the device cap per account (embedded mode, real sockets)", () => {
  let p: EmbeddedParley;
  before(async () => {
    p = await startParley({ ACCOUNT_MAX_DEVICES: "2" });
  });
  after(() => p?.close());

  it("logs out the least recently used device when a log-in goes beyond the cap, closing its sockets with 4101", async () => {
    const phone = await p.user("capped", "phone");
    const s = await opened(p.wsUrl, phone.token);
    const laptop = await p.logIn("capped", "laptop");
    const tablet = await p.logIn("capped", "tablet");
    assert.equal((await s.closedWith()).code, 4101);
    await assert.rejects(RawSocket.open(p.wsUrl, phone.token), { status: 401 });
    const devices = await callApi(p.url, "ListDevices", {}, tablet.token);
    const state = Object.fromEntries(devices.body.devices.map((d: { name: string; loggedIn?: boolean }) => [d.name, d.loggedIn === true]));
    assert.deepEqual(state, { phone: false, laptop: true, tablet: true });
    (await opened(p.wsUrl, laptop.token)).close();
  });
});

describe("fair scheduling between users (embedded mode, real sockets, one request in flight per user)", () => {
  let p: EmbeddedParley;
  before(async () => {
    p = await startParley({
      GATEWAY_FRAMES_PER_SECOND: "100000",
      GATEWAY_FRAME_BURST: "100000",
      GATEWAY_USER_MAX_IN_FLIGHT: "1",
      GATEWAY_USER_MAX_QUEUED: "300",
    });
  });
  after(() => p?.close());

  it("answers another user's send while one user's flood still waits in its own queue", async () => {
    const flooder = await p.user("flooder");
    const victim = await p.user("victim");
    const prober = await p.user("prober");
    const friend = await p.user("friend");
    const f = await opened(p.wsUrl, flooder.token);
    const probe = await opened(p.wsUrl, prober.token);
    const floodConversation = await openDirect(f, victim.userId, 1n);
    const probeConversation = await openDirect(probe, friend.userId, 1n);
    const flood = Array.from({ length: 300 }, (_, i) => sendFrame(BigInt(100 + i), floodConversation, `flood ${i}`));
    burst(f, flood);
    await f.next((x) => x.body.case === "send"); // the flood is being served
    probe.send(sendFrame(2n, probeConversation, "probe"));
    const probeAck = await probe.reply(2n);
    assert.equal(probeAck.body.case, "send");
    const floodAcked = 1 + f.frames.filter((x) => x.body.case === "send").length;
    // Chat serves commands in arrival order: without the per-user bound, all 300 would be ahead of the probe.
    assert.ok(floodAcked < 100, `the probe waited for ${floodAcked} of the flood's 300 sends`);
    // The flood itself loses nothing: every send is answered and stored.
    for (let i = 1; i < 300; i++) await f.next((x) => x.body.case === "send");
    f.close();
    probe.close();
  });

  it("serves a flood beyond the user's queue in arrival order without refusing any, and keeps the connection", async () => {
    const user = await p.user("queuefull");
    const peer = await p.user("queuepeer");
    const s = await opened(p.wsUrl, user.token);
    const conversationId = await openDirect(s, peer.userId, 1n);
    const count = 400; // more than the 1 in flight and 300 queued: the socket is paused, nothing is dropped
    burst(
      s,
      Array.from({ length: count }, (_, i) => sendFrame(BigInt(100 + i), conversationId, `q ${i}`)),
    );
    let lastSeq = 0n;
    for (let i = 0; i < count; i++) {
      const reply = await s.next((r) => r.id === BigInt(100 + i), 20_000);
      assert.ok(reply.body.case === "send", `request ${i} was answered ${reply.body.case}`);
      assert.ok(reply.body.value.seq > lastSeq, "one at a time, in the order they arrived");
      lastSeq = reply.body.value.seq;
    }
    s.send(sendFrame(2n, conversationId, "after the flood"));
    assert.equal((await s.reply(2n)).body.case, "send");
    s.close();
  });
});
