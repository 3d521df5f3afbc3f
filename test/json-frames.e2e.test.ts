import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { startParley, type EmbeddedParley } from "./support/embedded.js";

/**
 * The JSON subprotocol as a client written only from docs/protocol.md sees it:
 * frames read with plain JSON.parse, no protobuf. Every ```json example in the
 * doc is compared with a real frame of the same kind, so the docs and the
 * server cannot drift apart.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Frame = { [key: string]: Json };

/** The frames shown in docs/protocol.md's fenced ```json blocks, one frame per block. */
function documentedFrames(): Frame[] {
  const doc = readFileSync(new URL("../docs/protocol.md", import.meta.url), "utf8");
  return [...doc.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => JSON.parse(m[1]!) as Frame);
}

/** A frame's kind: its one body key (`welcome`, `error`, `send`...), next to `id`; for entries, with the item's (`entry.edited`). */
function kindOf(frame: Frame): string {
  const keys = Object.keys(frame).filter((k) => k !== "id");
  assert.equal(keys.length, 1, `a frame has one body: ${JSON.stringify(frame)}`);
  if (keys[0] !== "entry") return keys[0]!;
  const items = Object.keys(frame.entry as Frame).filter((k) => k !== "seq");
  assert.equal(items.length, 1, `an entry has one item: ${JSON.stringify(frame)}`);
  return `entry.${items[0]}`;
}

function shapeOf(value: Json): string {
  return Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
}

/**
 * Checks that `real` has exactly the fields `shown` has, with the same JSON
 * types, at every level (array elements compared when both have one).
 */
function assertSameShape(real: Json, shown: Json, path: string): void {
  assert.equal(shapeOf(real), shapeOf(shown), `${path}: the docs show a ${shapeOf(shown)}, the server wrote ${JSON.stringify(real)}`);
  if (Array.isArray(real) && Array.isArray(shown)) {
    if (real.length > 0 && shown.length > 0) assertSameShape(real[0]!, shown[0]!, `${path}[0]`);
  } else if (shapeOf(real) === "object") {
    const r = real as Frame;
    const s = shown as Frame;
    assert.deepEqual(Object.keys(r).sort(), Object.keys(s).sort(), `${path}: the server's fields (actual) differ from the docs' (expected)`);
    for (const key of Object.keys(s)) assertSameShape(r[key]!, s[key]!, `${path}.${key}`);
  }
}

/** A WebSocket on parley.v1.json keeping every text frame as parsed JSON. */
async function openJson(url: string, token: string) {
  const ws = new WebSocket(url, ["parley.v1.json"], { headers: { authorization: `Bearer ${token}` } });
  const frames: Frame[] = [];
  ws.on("message", (data, isBinary) => {
    assert.equal(isBinary, false, "the JSON subprotocol sends text frames");
    frames.push(JSON.parse((data as Buffer).toString()) as Frame);
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const next = async (match: (f: Frame) => boolean): Promise<Frame> => {
    for (let waited = 0; waited < 5_000; waited += 10) {
      const index = frames.findIndex(match);
      if (index >= 0) return frames.splice(index, 1)[0]!;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting for a frame; got ${JSON.stringify(frames)}`);
  };
  return {
    ws,
    next,
    request: (frame: Frame) => {
      ws.send(JSON.stringify(frame));
      return next((f) => f.id === frame.id);
    },
  };
}

describe("JSON subprotocol frames as the docs show them (embedded mode, plain JSON.parse)", () => {
  let p: EmbeddedParley;
  /** A real frame of each kind, from a new user on a new device. */
  const real = new Map<string, Frame>();

  before(async () => {
    p = await startParley();
    const carol = await p.user("carol");
    const dave = await p.user("dave");
    const s = await openJson(p.wsUrl, carol.token);
    real.set("welcome", await s.next((f) => "welcome" in f));
    // Before anything is sent, so the inbox is empty.
    real.set("sync", await s.request({ id: "3", sync: { afterSeq: "0" } }));
    real.set("error", await s.request({ id: "7", sync: { limit: 1001 } }));
    const opened = await s.request({ id: "1", openDirect: { peerUserId: String(dave.userId) } });
    const conversationId = ((opened.openDirect as Frame).conversation as Frame).conversationId!;
    const sent = await s.request({ id: "2", send: { conversationId, clientMsgId: "json-frames-1", text: "hi Dave" } });
    real.set("send", sent);
    const messageId = (sent.send as Frame).messageId!;
    real.set("editMessage", await s.request({ id: "8", editMessage: { conversationId, messageId, text: "hi Dave!" } }));
    real.set("entry.edited", await s.next((f) => "entry" in f && "edited" in (f.entry as Frame)));
    real.set("searchMessages", await s.request({ id: "13", searchMessages: { query: "dave", limit: 5 } }));
    real.set("deleteMessage", await s.request({ id: "9", deleteMessage: { conversationId, messageId, forEveryone: true } }));
    const other = await s.request({ id: "11", send: { conversationId, clientMsgId: "json-frames-2", text: "react to me" } });
    const otherId = (other.send as Frame).messageId!;
    real.set("react", await s.request({ id: "10", react: { conversationId, messageId: otherId, emoji: "👍" } }));
    real.set("entry.reacted", await s.next((f) => "entry" in f && "reacted" in (f.entry as Frame)));
    await s.request({ id: "12", send: { conversationId, clientMsgId: "json-frames-3", text: "a reply", replyToMessageId: otherId } });
    real.set("entry.message", await s.next((f) => "entry" in f && "replyTo" in (((f.entry as Frame).message as Frame | undefined) ?? {})));
    s.ws.close();
  });
  after(() => p?.close());

  it('greets a new device with every welcome field, the zero cursors as strings "0"', () => {
    const welcome = real.get("welcome")!;
    assert.equal(welcome.id, "0");
    const body = welcome.welcome as Frame;
    assert.equal(body.cursorSeq, "0");
    assert.equal(body.headSeq, "0");
    assert.equal(typeof body.userId, "string");
    assert.equal(typeof body.deviceId, "string");
    assert.equal(typeof body.heartbeatIntervalMs, "number");
    assert.equal(typeof body.maxFrameBytes, "number");
    assert.equal(typeof body.tokenExpiresAt, "string");
  });

  it("writes retryable false on an error frame", () => {
    assert.deepEqual(Object.keys(real.get("error")!.error as Frame).sort(), ["code", "message", "retryable"]);
    assert.equal((real.get("error")!.error as Frame).code, "INVALID_ARGUMENT");
    assert.equal((real.get("error")!.error as Frame).retryable, false);
  });

  it("writes duplicate false on a first send's reply", () => {
    assert.equal((real.get("send")!.send as Frame).duplicate, false);
  });

  it("writes entries [] and hasMore false on an empty sync", () => {
    assert.deepEqual(real.get("sync")!.sync, { entries: [], hasMore: false, headSeq: "0" });
  });

  it("shows in every ```json example of docs/protocol.md exactly the fields the real frame has", () => {
    const shown = documentedFrames();
    assert.ok(shown.length >= 4, "the docs show welcome, error, send and sync frames");
    for (const frame of shown) {
      const kind = kindOf(frame);
      const frameOfKind = real.get(kind);
      assert.ok(frameOfKind, `docs/protocol.md shows a "${kind}" frame: add a real one to this test`);
      assertSameShape(frameOfKind, frame, kind);
    }
  });
});
