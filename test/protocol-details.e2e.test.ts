import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { encodeClientFrame, frameBytes } from "@parley/wire";
import { startParley, type EmbeddedParley, type LoggedIn } from "./support/embedded.js";
import { RawSocket } from "./support/raw-socket.js";

/**
 * Details of docs/protocol.md that a client developer asked about (issue 17):
 * frame sizes of non-ASCII text, backward cursors, pipelined sends, repeated
 * client message ids. Real sockets against embedded Parley.
 */
describe("protocol details (embedded mode, real sockets)", () => {
  let p: EmbeddedParley;
  let users = 0;

  before(async () => {
    p = await startParley();
  });
  after(() => p?.close());

  /** A fresh user with a welcomed socket and a direct conversation with a fresh peer. */
  async function pair(format: "proto" | "json" = "proto"): Promise<{ me: LoggedIn; peer: LoggedIn; s: RawSocket; conversationId: bigint }> {
    users++;
    const me = await p.user(`details_me${users}`);
    const peer = await p.user(`details_peer${users}`);
    const s = await RawSocket.open(p.wsUrl, me.token, { format });
    await s.next((f) => f.body.case === "welcome");
    s.send({ id: 1n, body: { case: "openDirect", value: { peerUserId: peer.userId } } });
    const opened = await s.reply(1n);
    assert.ok(opened.body.case === "openDirect");
    return { me, peer, s, conversationId: opened.body.value.conversation!.conversationId };
  }

  const sendFrame = (id: bigint, conversationId: bigint, clientMsgId: string, text: string) =>
    ({ id, body: { case: "send", value: { conversationId, clientMsgId, text } } }) as const;

  function ackOf(frame: ServerFrame) {
    assert.ok(
      frame.body.case === "send",
      `a send ack, got ${frame.body.case}: ${JSON.stringify(frame.body.value, (_k, v) => (typeof v === "bigint" ? `${v}` : v))}`,
    );
    return frame.body.value;
  }

  /** Sends one frame and returns its ack. */
  async function sent(s: RawSocket, frame: ReturnType<typeof sendFrame>) {
    s.send(frame);
    return ackOf(await s.reply(frame.id));
  }

  async function historyTexts(s: RawSocket, id: bigint, conversationId: bigint, limit: number): Promise<string[]> {
    s.send({ id, body: { case: "history", value: { conversationId, limit } } });
    const reply = await s.reply(id);
    assert.ok(reply.body.case === "history");
    return reply.body.value.messages.map((m) => m.text);
  }

  describe("frame size of non-ASCII text", () => {
    const emoji = "\u{1F600}".repeat(100_000);

    it("carries a 100,000-emoji text in one JSON frame, written as UTF-8 without escapes", async () => {
      const { s, conversationId } = await pair("json");
      const frame = encodeClientFrame(sendFrame(2n, conversationId, "emoji-json", emoji), "json");
      assert.equal(frame.includes("\\u"), false, "the JSON writer leaves non-ASCII characters unescaped");
      assert.ok(frameBytes(frame) > 400_000 && frameBytes(frame) < 524_288, `${frameBytes(frame)} bytes`);
      s.ws.send(frame);
      assert.equal(ackOf(await s.reply(2n)).duplicate, false);
      s.close();
    });

    it("closes with 1009 a JSON frame whose encoder escaped the same emoji (12 bytes each), which the binary subprotocol carries", async () => {
      const json = await pair("json");
      const escaped = `{"id":"2","send":{"conversationId":"${json.conversationId}","clientMsgId":"emoji-escaped","text":"${"\\ud83d\\ude00".repeat(100_000)}"}}`;
      assert.ok(Buffer.byteLength(escaped) > 1_200_000);
      json.s.ws.send(escaped);
      assert.equal((await json.s.closedWith()).code, 1009);

      const proto = await pair("proto");
      const frame = encodeClientFrame(sendFrame(2n, proto.conversationId, "emoji-proto", emoji), "proto");
      assert.ok(frame.byteLength < 400_100, `${frame.byteLength} bytes`);
      proto.s.ws.send(frame);
      assert.equal(ackOf(await proto.s.reply(2n)).duplicate, false);
      proto.s.close();
    });

    it("closes with 1009 a JSON frame of 100,000 control characters, which JSON writes as six bytes each", async () => {
      const { s, conversationId } = await pair("json");
      const frame = encodeClientFrame(sendFrame(2n, conversationId, "controls", "\u0001".repeat(100_000)), "json");
      assert.ok(frameBytes(frame) > 600_000, `${frameBytes(frame)} bytes`);
      s.ws.send(frame);
      assert.equal((await s.closedWith()).code, 1009);
    });
  });

  describe("ackCursor", () => {
    it("answers a cursor below the stored one with success and keeps the stored one", async () => {
      const { me, s, conversationId } = await pair();
      for (let i = 0; i < 3; i++) {
        s.send(sendFrame(BigInt(10 + i), conversationId, `c${i}`, `m${i}`));
        ackOf(await s.reply(BigInt(10 + i)));
      }
      s.send({ id: 20n, body: { case: "ackCursor", value: { seq: 3n } } });
      assert.equal((await s.reply(20n)).body.case, "ackCursor");
      s.send({ id: 21n, body: { case: "ackCursor", value: { seq: 1n } } });
      assert.equal((await s.reply(21n)).body.case, "ackCursor", "a backward cursor is answered like any other");
      s.send({ id: 22n, body: { case: "ackCursor", value: { seq: 4n } } });
      const above = await s.reply(22n);
      assert.ok(above.body.case === "error" && above.body.value.code === "INVALID_ARGUMENT", "a cursor above the head is refused");
      s.close();

      const again = await RawSocket.open(p.wsUrl, me.token);
      const welcome = await again.next((f) => f.body.case === "welcome");
      assert.ok(welcome.body.case === "welcome");
      assert.deepEqual([welcome.body.value.cursorSeq, welcome.body.value.headSeq], [3n, 3n], "the stored cursor did not move back");
      again.close();
    });
  });

  describe("pipelined sends", () => {
    it("keeps the order of 50 sends written at once on one socket, in ids, seqs, history and the peer's inbox", async () => {
      const { peer, s, conversationId } = await pair();
      const bob = await RawSocket.open(p.wsUrl, peer.token);
      await bob.next((f) => f.body.case === "welcome");
      const texts = Array.from({ length: 50 }, (_, i) => `pipelined ${i}`);
      for (const [i, text] of texts.entries()) s.send(sendFrame(BigInt(100 + i), conversationId, `p${i}`, text));
      const acks = [];
      for (let i = 0; i < texts.length; i++) acks.push(ackOf(await s.reply(BigInt(100 + i))));
      for (let i = 1; i < acks.length; i++) {
        assert.ok(acks[i]!.messageId > acks[i - 1]!.messageId, `message ${i} has a larger id than message ${i - 1}`);
        assert.equal(acks[i]!.seq, acks[i - 1]!.seq + 1n, `message ${i} has the sender's next seq`);
      }
      assert.deepEqual((await historyTexts(s, 200n, conversationId, 50)).reverse(), texts);
      const entries: { seq: bigint; text: string }[] = [];
      while (entries.length < texts.length) {
        const entry = await bob.next((f) => f.body.case === "entry");
        assert.ok(entry.body.case === "entry" && entry.body.value.item.case === "message");
        entries.push({ seq: entry.body.value.seq, text: entry.body.value.item.value.text });
      }
      assert.deepEqual(
        entries.map((e) => e.text),
        texts,
        "delivered live in send order",
      );
      assert.deepEqual(
        entries.map((e) => e.seq),
        entries.map((_, i) => entries[0]!.seq + BigInt(i)),
      );
      s.close();
      bob.close();
    });
  });

  describe("a repeated clientMsgId", () => {
    it("returns the first message's ack with duplicate true and ignores the new text, also in another conversation", async () => {
      const { s, conversationId } = await pair();
      const first = await sent(s, sendFrame(2n, conversationId, "same-id", "first text"));
      const again = await sent(s, sendFrame(3n, conversationId, "same-id", "other text"));
      assert.equal(again.duplicate, true);
      assert.deepEqual(
        [again.messageId, again.seq, again.conversationId, again.createdAt],
        [first.messageId, first.seq, first.conversationId, first.createdAt],
      );
      assert.deepEqual(await historyTexts(s, 4n, conversationId, 10), ["first text"]);

      const other = await p.user(`details_other${users}`);
      s.send({ id: 5n, body: { case: "openDirect", value: { peerUserId: other.userId } } });
      const opened = await s.reply(5n);
      assert.ok(opened.body.case === "openDirect");
      const elsewhere = opened.body.value.conversation!.conversationId;
      const moved = await sent(s, sendFrame(6n, elsewhere, "same-id", "third text"));
      assert.deepEqual(
        [moved.duplicate, moved.messageId, moved.conversationId],
        [true, first.messageId, conversationId],
        "the ack names the first conversation",
      );
      assert.deepEqual(await historyTexts(s, 7n, elsewhere, 10), []);
      s.close();
    });
  });
});
