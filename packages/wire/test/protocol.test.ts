import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, equals } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ClientFrameSchema, CloseCode, ServerFrameSchema } from "@parley/contracts/parley/client/v1/client";
import {
  closeAction,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  formatOf,
  frameBytes,
  handshakeAction,
  handshakeRefusal,
  isRetryableCode,
  subprotocolOf,
  type WireFormat,
} from "../src/protocol.js";

const FORMATS: WireFormat[] = ["proto", "json"];

const send = create(ClientFrameSchema, {
  id: 7n,
  body: { case: "send", value: { conversationId: 123318215016869888n, clientMsgId: "5b0e-1", text: "héllo 👋" } },
});

const entry = create(ServerFrameSchema, {
  id: 0n,
  body: {
    case: "entry",
    value: {
      seq: 18446744073709551615n,
      item: {
        case: "message",
        value: { messageId: 123318215537369089n, senderId: 1000n, text: "hi Bob", createdAt: timestampFromDate(new Date("2026-11-22T04:12:00.120Z")) },
      },
    },
  },
});

const welcome = create(ServerFrameSchema, {
  body: { case: "welcome", value: { userId: 1000n, deviceId: 1001n, heartbeatIntervalMs: 5000, maxFrameBytes: 524288, cursorSeq: 41n, headSeq: 44n } },
});

describe("protocol", () => {
  for (const format of FORMATS) {
    describe(`${format} frames`, () => {
      it("round-trips a client frame, 64-bit ids and Unicode intact", () => {
        assert.ok(equals(ClientFrameSchema, decodeClientFrame(encodeClientFrame(send, format), format), send));
      });

      it("round-trips server frames: a pushed entry at the largest seq, and a welcome", () => {
        for (const frame of [entry, welcome]) {
          assert.ok(equals(ServerFrameSchema, decodeServerFrame(encodeServerFrame(frame, format), format), frame));
        }
      });

      it("encodes from a plain init object as well as a message", () => {
        const data = encodeClientFrame({ id: 3n, body: { case: "heartbeat", value: {} } }, format);
        assert.equal(decodeClientFrame(data, format).body.case, "heartbeat");
      });

      it("refuses a frame of the other kind (text on proto, binary on json)", () => {
        const other: WireFormat = format === "proto" ? "json" : "proto";
        assert.throws(() => decodeServerFrame(encodeServerFrame(welcome, other), format), TypeError);
      });
    });
  }

  it("uses bytes for proto and text for json", () => {
    assert.ok(encodeClientFrame(send, "proto") instanceof Uint8Array);
    assert.equal(typeof encodeClientFrame(send, "json"), "string");
  });

  it("writes the protobuf JSON mapping: camelCase, 64-bit ids as strings", () => {
    assert.deepEqual(JSON.parse(encodeServerFrame(welcome, "json")), {
      id: "0",
      welcome: { userId: "1000", deviceId: "1001", heartbeatIntervalMs: 5000, maxFrameBytes: 524288, cursorSeq: "41", headSeq: "44" },
    });
  });

  it("writes every field of a server frame, zero values included, but no unset oneof member or message", () => {
    const fresh = create(ServerFrameSchema, { body: { case: "welcome", value: { userId: 1000n, deviceId: 1001n } } });
    assert.deepEqual(JSON.parse(encodeServerFrame(fresh, "json")), {
      id: "0",
      welcome: { userId: "1000", deviceId: "1001", heartbeatIntervalMs: 0, maxFrameBytes: 0, cursorSeq: "0", headSeq: "0" },
    });
    const error = create(ServerFrameSchema, { id: 7n, body: { case: "error", value: { code: "INVALID_ARGUMENT", message: "bad" } } });
    assert.deepEqual(JSON.parse(encodeServerFrame(error, "json")), { id: "7", error: { code: "INVALID_ARGUMENT", message: "bad", retryable: false } });
    const sync = create(ServerFrameSchema, { id: 2n, body: { case: "sync", value: {} } });
    assert.deepEqual(JSON.parse(encodeServerFrame(sync, "json")), { id: "2", sync: { entries: [], hasMore: false, headSeq: "0" } });
  });

  it("lets a client frame leave zero values out, and reads server frames with or without them", () => {
    assert.deepEqual(JSON.parse(encodeClientFrame({ id: 1n, body: { case: "sync", value: {} } }, "json")), { id: "1", sync: {} });
    const sparse = decodeServerFrame('{"sync":{}}', "json");
    const full = decodeServerFrame('{"id":"0","sync":{"entries":[],"hasMore":false,"headSeq":"0"}}', "json");
    assert.ok(equals(ServerFrameSchema, sparse, full));
  });

  it("ignores JSON fields it does not know, so newer servers stay readable", () => {
    const frame = decodeServerFrame('{"id":"9","pong":{},"someFutureField":{"x":1}}', "json");
    assert.equal(frame.id, 9n);
    assert.equal(frame.body.case, "pong");
  });

  it("throws on a frame that is not protobuf or not JSON", () => {
    assert.throws(() => decodeServerFrame(new Uint8Array([0xff, 0xff, 0xff]), "proto"));
    assert.throws(() => decodeServerFrame("{not json", "json"));
  });

  it("counts frame bytes as UTF-8", () => {
    assert.equal(frameBytes("é👋"), 6);
    assert.equal(frameBytes(new Uint8Array(5)), 5);
  });

  it("maps formats to subprotocols and back", () => {
    for (const format of FORMATS) assert.equal(formatOf(subprotocolOf(format)), format);
    assert.equal(subprotocolOf("proto"), "parley.v1.proto");
    assert.equal(subprotocolOf("json"), "parley.v1.json");
    assert.equal(formatOf("bearer.abc"), undefined);
  });

  describe("closeAction", () => {
    const table: [number, ReturnType<typeof closeAction>][] = [
      [CloseCode.HEARTBEAT_TIMEOUT, "reconnect"],
      [CloseCode.SLOW_CONSUMER, "reconnect"],
      [CloseCode.RATE_LIMITED, "reconnect"],
      [4099, "reconnect"],
      [1001, "reconnect"],
      [1011, "reconnect"],
      [1006, "reconnect"],
      [1012, "reconnect"],
      [4500, "reconnect"],
      [CloseCode.TOKEN_EXPIRED, "reauthenticate"],
      [CloseCode.LOGGED_OUT, "reauthenticate"],
      [CloseCode.SESSION_REVOKED, "reauthenticate"],
      [CloseCode.PASSWORD_CHANGED, "reauthenticate"],
      [4199, "reauthenticate"],
      [CloseCode.PROTOCOL_VIOLATION, "stop"],
      [CloseCode.ACCOUNT_DISABLED, "stop"],
      [4299, "stop"],
      [1009, "stop"],
      [1007, "stop"],
      [1000, "stop"],
    ];
    for (const [code, action] of table) {
      it(`${code} means ${action}`, () => assert.equal(closeAction(code), action));
    }
  });

  it("maps refused upgrades: 401 reauthenticates, 400/403/404 stop, 429 and 503 retry", () => {
    assert.equal(handshakeAction(401), "reauthenticate");
    for (const status of [400, 403, 404]) assert.equal(handshakeAction(status), "stop");
    for (const status of [429, 500, 502, 503]) assert.equal(handshakeAction(status), "reconnect");
  });

  it("names refused upgrades for the application: origin, token, rate, availability", () => {
    assert.equal(handshakeRefusal(403), "origin_refused");
    assert.equal(handshakeRefusal(401), "unauthenticated");
    assert.equal(handshakeRefusal(429), "rate_limited");
    assert.equal(handshakeRefusal(503), "unavailable");
    assert.equal(handshakeRefusal(400), "bad_request");
    assert.equal(handshakeRefusal(404), "not_found");
    assert.equal(handshakeRefusal(502), "server_error");
    assert.equal(handshakeRefusal(407), "refused");
  });

  it("marks only the transient gRPC codes retryable", () => {
    for (const code of ["UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"]) assert.ok(isRetryableCode(code), code);
    for (const code of ["INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION_DENIED", "FAILED_PRECONDITION", "UNAUTHENTICATED", "INTERNAL", "unavailable"]) {
      assert.ok(!isRetryableCode(code), code);
    }
  });
});
