import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { callApi } from "./support/http-api.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { RawSocket } from "./support/raw-socket.js";

describe("gateway WebSocket edge (embedded mode, real sockets)", () => {
  let p: EmbeddedParley;
  let alice: Awaited<ReturnType<EmbeddedParley["user"]>>;
  let bob: Awaited<ReturnType<EmbeddedParley["user"]>>;
  let conversationId: bigint;

  before(async () => {
    p = await startParley({ GATEWAY_ALLOWED_ORIGINS: "https://app.example" });
    alice = await p.user("alice");
    bob = await p.user("bob");
    const s = await RawSocket.open(p.wsUrl, alice.token);
    s.send({ id: 1n, body: { case: "openDirect", value: { peerUserId: bob.userId } } });
    const reply = await s.reply(1n);
    assert.equal(reply.body.case, "openDirect");
    conversationId = reply.body.case === "openDirect" ? reply.body.value.conversation!.conversationId : 0n;
    s.close();
  });
  after(() => p?.close());

  describe("the upgrade", () => {
    it("refuses a missing, malformed or made-up token with 401 before upgrading", async () => {
      await assert.rejects(RawSocket.open(p.wsUrl, undefined), { status: 401 });
      await assert.rejects(RawSocket.open(p.wsUrl, "not-a-token"), { status: 401 });
      await assert.rejects(RawSocket.open(p.wsUrl, `${alice.token}x`), { status: 401 });
    });
    it("refuses a browser origin outside the allowlist with 403 and accepts an allowed one", async () => {
      await assert.rejects(RawSocket.open(p.wsUrl, alice.token, { origin: "https://evil.example" }), { status: 403 });
      const ok = await RawSocket.open(p.wsUrl, alice.token, { origin: "https://app.example" });
      ok.close();
    });
    it("takes the token from a bearer subprotocol for browsers and never echoes it", async () => {
      const s = await RawSocket.open(p.wsUrl, alice.token, { format: "json", viaProtocol: true });
      assert.equal(s.ws.protocol, "parley.v1.json");
      const welcome = await s.next((f) => f.body.case === "welcome");
      assert.equal(welcome.body.case === "welcome" && welcome.body.value.userId, alice.userId);
      s.close();
    });
    it("refuses an unknown subprotocol with 400 and an unknown path with 404", async () => {
      const status = (url: string, protocols: string[]) =>
        new Promise<number>((resolve) => {
          const ws = new WebSocket(url, protocols, { headers: { authorization: `Bearer ${alice.token}` } });
          ws.on("unexpected-response", (_q, res) => resolve(res.statusCode ?? 0));
          ws.on("error", () => resolve(-1));
        });
      assert.equal(await status(p.wsUrl, ["mqtt"]), 400);
      assert.equal(await status(`${p.url.replace("http", "ws")}/other`, ["parley.v1.proto"]), 404);
    });
    it("greets with a welcome carrying the device, limits and cursors", async () => {
      const s = await RawSocket.open(p.wsUrl, bob.token);
      const welcome = await s.next((f) => f.body.case === "welcome");
      assert.equal(welcome.id, 0n);
      assert.ok(welcome.body.case === "welcome");
      assert.equal(welcome.body.value.deviceId, bob.deviceId);
      assert.equal(welcome.body.value.heartbeatIntervalMs, 5000);
      assert.equal(welcome.body.value.maxFrameBytes, 524288);
      s.close();
    });
  });

  describe("frames", () => {
    it("echoes request ids and answers heartbeats with pong", async () => {
      const s = await RawSocket.open(p.wsUrl, alice.token);
      s.send({ id: 42n, body: { case: "heartbeat", value: {} } });
      assert.equal((await s.reply(42n)).body.case, "pong");
      s.close();
    });
    it("answers an undecodable frame with an error frame and keeps the connection", async () => {
      const s = await RawSocket.open(p.wsUrl, alice.token);
      s.ws.send(Buffer.from([0xff, 0xff, 0xff, 0x01]));
      const error = await s.next((f) => f.body.case === "error");
      assert.ok(error.body.case === "error");
      assert.equal(error.body.value.code, "INVALID_ARGUMENT");
      s.send({ id: 2n, body: { case: "heartbeat", value: {} } });
      assert.equal((await s.reply(2n)).body.case, "pong");
      s.close();
    });
    it("answers an empty frame and a request without an id with INVALID_ARGUMENT", async () => {
      const s = await RawSocket.open(p.wsUrl, alice.token);
      s.send({ id: 3n });
      const empty = await s.reply(3n);
      assert.ok(empty.body.case === "error" && empty.body.value.code === "INVALID_ARGUMENT");
      s.send({ id: 0n, body: { case: "sync", value: {} } });
      const noId = await s.next((f) => f.body.case === "error");
      assert.ok(noId.body.case === "error" && /non-zero id/.test(noId.body.value.message));
      s.close();
    });
    it("ignores a spoofed sender field: the sender is always the token's user", async () => {
      const s = await RawSocket.open(p.wsUrl, alice.token, { format: "json" });
      await s.next((f) => f.body.case === "welcome");
      s.ws.send(JSON.stringify({ id: "5", send: { conversationId: String(conversationId), clientMsgId: "spoof", text: "hi", senderId: String(bob.userId) } }));
      const ack = await s.reply(5n);
      assert.equal(ack.body.case, "send");
      s.send({ id: 6n, body: { case: "history", value: { conversationId, limit: 1 } } });
      const history = await s.reply(6n);
      assert.ok(history.body.case === "history");
      assert.equal(history.body.value.messages[0]!.senderId, alice.userId);
      s.close();
    });
    it("refuses 100,001 characters with INVALID_ARGUMENT naming the limit, over the socket", async () => {
      const s = await RawSocket.open(p.wsUrl, alice.token);
      s.send({ id: 7n, body: { case: "send", value: { conversationId, clientMsgId: "long", text: "x".repeat(100_001) } } });
      const reply = await s.reply(7n);
      assert.ok(reply.body.case === "error");
      assert.equal(reply.body.value.code, "INVALID_ARGUMENT");
      assert.match(reply.body.value.message, /100000/);
      assert.equal(reply.body.value.retryable, false);
      s.close();
    });
    it("answers NOT_FOUND and PERMISSION_DENIED over the socket", async () => {
      const carol = await p.user("carol");
      const s = await RawSocket.open(p.wsUrl, carol.token);
      s.send({ id: 8n, body: { case: "send", value: { conversationId, clientMsgId: "c1", text: "hi" } } });
      s.send({ id: 9n, body: { case: "send", value: { conversationId: 77n, clientMsgId: "c2", text: "hi" } } });
      const denied = await s.reply(8n);
      const missing = await s.reply(9n);
      assert.ok(denied.body.case === "error" && denied.body.value.code === "PERMISSION_DENIED");
      assert.ok(missing.body.case === "error" && missing.body.value.code === "NOT_FOUND");
      s.close();
    });
    it("closes with 1009 on a frame above the maximum size", async () => {
      const s = await RawSocket.open(p.wsUrl, alice.token);
      s.ws.send(Buffer.alloc(600_000, 1));
      assert.equal((await s.closedWith()).code, 1009);
    });
    it("closes with 1007 on invalid UTF-8 in a JSON text frame", async () => {
      const s = await RawSocket.open(p.wsUrl, alice.token, { format: "json" });
      await s.next((f) => f.body.case === "welcome");
      s.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
      assert.equal((await s.closedWith()).code, 1007);
    });
  });

  /**
   * Every way a session ends closes the sockets its tokens opened, with the
   * close code docs/protocol.md gives for it, and no other session's. A
   * heartbeat answered on the other socket after the close arrived shows it
   * stayed open: the gateway closes all sockets of one event at once.
   */
  describe("sessions ending", () => {
    const opened = async (token: string) => {
      const s = await RawSocket.open(p.wsUrl, token);
      await s.next((f) => f.body.case === "welcome");
      return s;
    };
    const answers = async (s: RawSocket, id: bigint) => {
      s.send({ id, body: { case: "heartbeat", value: {} } });
      assert.equal((await s.reply(id)).body.case, "pong");
    };

    it("closes a logged-out device's socket with 4101 and leaves the user's other devices open", async () => {
      const device = await p.logIn("alice", "tablet");
      const other = await opened(alice.token);
      const s = await opened(device.token);
      assert.equal((await callApi(p.url, "LogOut", {}, device.token)).status, 200);
      assert.equal((await s.closedWith()).code, 4101);
      await answers(other, 11n);
      await assert.rejects(RawSocket.open(p.wsUrl, device.token), { status: 401 });
      other.close();
    });

    it("closes with 4102 the socket of a session ended by a replayed refresh token, and leaves the user's other sessions open", async () => {
      const phone = await p.user("reused", "phone");
      const laptop = await p.logIn("reused", "laptop");
      const refreshed = await callApi(p.url, "RefreshSession", { refreshToken: phone.refreshToken });
      assert.equal(refreshed.status, 200);
      const s = await opened(refreshed.body.session.accessToken);
      const other = await opened(laptop.token);
      const replay = await callApi(p.url, "RefreshSession", { refreshToken: phone.refreshToken });
      assert.deepEqual([replay.status, replay.body.code], [401, "unauthenticated"]);
      assert.equal((await s.closedWith()).code, 4102);
      await answers(other, 12n);
      await assert.rejects(RawSocket.open(p.wsUrl, refreshed.body.session.accessToken), { status: 401 });
      other.close();
    });

    it("does not close anything for a forged refresh token", async () => {
      const phone = await p.user("forgedfor", "phone");
      const s = await opened(phone.token);
      const forged = `${phone.refreshToken.split(".")[0]}.${"A".repeat(43)}`;
      const res = await callApi(p.url, "RefreshSession", { refreshToken: forged });
      assert.deepEqual([res.status, res.body.code], [401, "unauthenticated"]);
      // Still open and serving; and the real token still refreshes.
      await answers(s, 13n);
      assert.equal((await callApi(p.url, "RefreshSession", { refreshToken: phone.refreshToken })).status, 200);
      s.close();
    });

    it("closes with 4103 every other session's socket when the password changes, and keeps the caller's", async () => {
      const phone = await p.user("changer", "phone");
      const laptop = await p.logIn("changer", "laptop");
      const tablet = await p.logIn("changer", "tablet");
      const [own, lost, stolen] = await Promise.all([phone, laptop, tablet].map((d) => opened(d.token)));
      const res = await callApi(p.url, "ChangePassword", { currentPassword: "correct horse battery", newPassword: "a brand new secret" }, phone.token);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((await lost!.closedWith()).code, 4103);
      assert.equal((await stolen!.closedWith()).code, 4103);
      await answers(own!, 14n);
      own!.close();
    });

    it("closes with 4102 the socket of a session replaced by a new log-in on the same device", async () => {
      const first = await p.user("kiosk", "kiosk");
      const s = await opened(first.token);
      const again = await callApi(p.url, "LogIn", {
        username: "kiosk",
        password: "correct horse battery",
        deviceName: "kiosk",
        deviceId: String(first.deviceId),
      });
      assert.equal(again.status, 200);
      assert.equal((await s.closedWith()).code, 4102);
      const fresh = await opened(again.body.session.accessToken);
      fresh.close();
    });
  });
});

describe("gateway WebSocket limits (embedded mode, tight limits)", () => {
  let p: EmbeddedParley;
  before(async () => {
    p = await startParley({
      GATEWAY_FRAMES_PER_SECOND: "5",
      GATEWAY_FRAME_BURST: "5",
      GATEWAY_SEND_BUFFER_BYTES: "65536",
      GATEWAY_HEARTBEAT_INTERVAL_MS: "1000",
    });
  });
  after(() => p?.close());

  it("answers a flood with RESOURCE_EXHAUSTED, then closes with 4002 if it goes on", async () => {
    const user = await p.user("flooder");
    const s = await RawSocket.open(p.wsUrl, user.token);
    for (let i = 1; i <= 30; i++) s.send({ id: BigInt(i), body: { case: "heartbeat", value: {} } });
    const limited = await s.next((f) => f.body.case === "error");
    assert.ok(limited.body.case === "error");
    assert.equal(limited.body.value.code, "RESOURCE_EXHAUSTED");
    assert.equal(limited.body.value.retryable, true);
    assert.equal((await s.closedWith()).code, 4002);
  });

  it("closes a reader that does not drain with 4001, keeping server memory bounded", async () => {
    const reader = await p.user("slowreader");
    const writer = await p.user("fastwriter");
    const w = await RawSocket.open(p.wsUrl, writer.token);
    w.send({ id: 1n, body: { case: "openDirect", value: { peerUserId: reader.userId } } });
    const open = await w.reply(1n);
    const conversationId = open.body.case === "openDirect" ? open.body.value.conversation!.conversationId : 0n;
    const r = await RawSocket.open(p.wsUrl, reader.token);
    await r.next((f) => f.body.case === "welcome");
    const text = "y".repeat(90_000);
    for (let i = 0; i < 10; i++) {
      w.send({ id: BigInt(100 + i), body: { case: "send", value: { conversationId, clientMsgId: `big-${i}`, text } } });
      await w.reply(BigInt(100 + i));
      await new Promise((resolve) => setTimeout(resolve, 210)); // stay under the 5 frames/s limit
    }
    // Stop reading, then ask for ~900 KB of inbox again and again: replies pile up on the server.
    (r.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let i = 0; i < 20; i++) {
      r.send({ id: BigInt(500 + i), body: { case: "sync", value: { afterSeq: 0n } } });
      await new Promise((resolve) => setTimeout(resolve, 210));
    }
    (r.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    assert.equal((await r.closedWith(10_000)).code, 4001);
    w.close();
  });

  it("closes a connection that stays silent for three heartbeat intervals with 4000", async () => {
    const user = await p.user("sleeper");
    const ws = new WebSocket(p.wsUrl, ["parley.v1.proto"], { headers: { authorization: `Bearer ${user.token}` }, autoPong: false });
    const code = await new Promise<number>((resolve) => ws.on("close", (c) => resolve(c)));
    assert.equal(code, 4000);
  });
});

describe("gateway WebSocket token expiry (embedded mode, 2-second tokens)", () => {
  let p: EmbeddedParley;
  before(async () => {
    p = await startParley({ ACCESS_TOKEN_TTL_SECONDS: "2" });
  });
  after(() => p?.close());

  it("closes the socket with 4100 when the access token expires", async () => {
    const user = await p.user("expiring");
    const s = await RawSocket.open(p.wsUrl, user.token);
    await s.next((f) => f.body.case === "welcome");
    assert.equal((await s.closedWith(5_000)).code, 4100);
    await assert.rejects(RawSocket.open(p.wsUrl, user.token), { status: 401 });
  });
});
