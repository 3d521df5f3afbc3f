import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CommandSchema, ReplySchema, type Command, type Reply } from "@parley/contracts/parley/chat/v1/chat";
import { ClientFrameSchema, type ClientFrame, type ServerFrame } from "@parley/contracts/parley/client/v1/client";
import type { UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import { createLogger } from "@parley/runtime";
import { decodeServerFrame, encodeClientFrame, REPLY_TO, type RequestKind, type WireFormat } from "@parley/wire";
import type { WebSocket } from "ws";
import type { ChatCommands } from "../src/ports.js";
import type { PresencePort } from "../src/ports.js";
import { DeviceConnection } from "../src/ws/connection.js";
import type { QueuedFrame } from "../src/ws/request-routes.js";
import { UserLane } from "../src/domain/user-lanes.js";
import { WriteBatcher } from "../src/ws/write-batching.js";

const USER = 1000n;
const DEVICE = 1001n;
const limits = { framesPerSecond: 1_000, frameBurst: 1_000, maxInFlight: 8, maxQueued: 64, rateStrikes: 3, sendBufferBytes: 1 << 20 };

/** The cases of a oneof as the contract's descriptors list them: independent of the gateway's routing table. */
const casesOf = (schema: typeof ClientFrameSchema | typeof CommandSchema | typeof ReplySchema) => schema.oneofs[0]!.fields;
const REQUESTS = casesOf(ClientFrameSchema);
const CHAT_OPS = new Set(casesOf(CommandSchema).map((field) => field.localName));

/** A request of every kind with an empty body, as a device could send it. */
function requestFrame(id: bigint, field: (typeof REQUESTS)[number]): ClientFrame {
  const body = { case: field.localName, value: create(field.message!) } as ClientFrame["body"];
  return create(ClientFrameSchema, { id, body });
}

/** Chat as the chat links see it: answers each op with an empty reply of its name, or as `answer` says. */
class FakeChat {
  readonly calls: { userId: bigint; deviceId: bigint; op: Command["op"] }[] = [];
  answer: (op: Command["op"]) => Promise<Reply["result"]> = async (op) => {
    const field = casesOf(ReplySchema).find((f) => f.localName === op.case);
    if (field === undefined) throw new Error(`chat has no reply for ${op.case}`);
    return { case: field.localName, value: create(field.message!) } as Reply["result"];
  };
  call(userId: bigint, deviceId: bigint, op: Command["op"]): Promise<Reply["result"]> {
    this.calls.push({ userId, deviceId, op });
    return this.answer(op);
  }
}

class FakePresence implements PresencePort {
  heartbeats = 0;
  readonly asked: bigint[][] = [];
  heartbeat(): void {
    this.heartbeats++;
  }
  async getPresence(_viewerId: bigint, userIds: bigint[]): Promise<UserPresence[]> {
    this.asked.push(userIds);
    return [];
  }
}

/** The `ws` socket as DeviceConnection uses it, in memory: what it sends is decoded into `frames`. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: ServerFrame[] = [];
  /** Whether the TCP socket's writes were held when each frame was sent. */
  readonly heldAtSend: boolean[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    private readonly format: WireFormat,
    private readonly tcp: PassThrough,
  ) {
    super();
  }
  send(data: Uint8Array | string): void {
    this.heldAtSend.push(this.tcp.writableCorked > 0);
    this.frames.push(decodeServerFrame(data, this.format));
    for (const wake of this.waiters.splice(0)) wake();
  }
  close(): void {}
  terminate(): void {}
  pause(): void {}
  resume(): void {}

  /** Resolves once `count` frames have been sent. */
  async received(count: number): Promise<ServerFrame[]> {
    while (this.frames.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.frames;
  }
}

function deviceUnderTest(options: { format?: WireFormat; maxInFlight?: number } = {}) {
  const format = options.format ?? "proto";
  const tcp = new PassThrough();
  const ws = new FakeSocket(format, tcp);
  const chat = new FakeChat();
  const presence = new FakePresence();
  const connectionLimits = { ...limits, maxInFlight: options.maxInFlight ?? limits.maxInFlight };
  const lane = new UserLane<QueuedFrame>(connectionLimits);
  new DeviceConnection(
    ws as unknown as WebSocket,
    new WriteBatcher(tcp),
    USER,
    DEVICE,
    1n,
    format,
    chat as unknown as ChatCommands,
    presence,
    connectionLimits,
    lane,
    createLogger("test", "silent"),
  );
  const receive = (data: Uint8Array | string) => ws.emit("message", Buffer.from(data), typeof data !== "string");
  return { ws, chat, presence, receive, send: (frame: ClientFrame) => receive(encodeClientFrame(frame, format)) };
}

const errorOf = (frame: ServerFrame | undefined) => {
  assert.equal(frame?.body.case, "error");
  return frame.body.value;
};

describe("the gateway's request routing", () => {
  it("knows every request of the contract: each ClientFrame case gets the reply the SDK expects", async () => {
    const device = deviceUnderTest();
    for (const [i, field] of REQUESTS.entries()) device.send(requestFrame(BigInt(i + 1), field));
    const frames = await device.ws.received(REQUESTS.length);
    for (const [i, field] of REQUESTS.entries()) {
      const reply = frames.find((frame) => frame.id === BigInt(i + 1));
      assert.equal(reply?.body.case, REPLY_TO[field.localName as RequestKind], `the reply to ${field.localName}`);
    }
  });

  it("sends to chat exactly the requests that are chat Command ops, with their request message, as the device's user", async () => {
    const device = deviceUnderTest();
    for (const [i, field] of REQUESTS.entries()) device.send(requestFrame(BigInt(i + 1), field));
    await device.ws.received(REQUESTS.length);
    const expected = REQUESTS.filter((field) => CHAT_OPS.has(field.localName));
    assert.deepEqual(device.chat.calls.map((call) => call.op.case).sort(), expected.map((field) => field.localName).sort());
    for (const { userId, deviceId, op } of device.chat.calls) {
      const request = expected.find((field) => field.localName === op.case)!;
      assert.deepEqual([userId, deviceId, op.value?.$typeName], [USER, DEVICE, request.message!.typeName]);
    }
    assert.equal(device.presence.asked.length, 1, "getPresence goes to presence");
    assert.equal(device.presence.heartbeats, 1, "a heartbeat keeps presence alive");
  });

  it("answers a heartbeat on arrival while the user's requests wait for chat", async () => {
    const device = deviceUnderTest({ maxInFlight: 1 });
    device.chat.answer = () => new Promise(() => {}); // chat never answers
    device.send(create(ClientFrameSchema, { id: 1n, body: { case: "send", value: {} } }));
    device.send(create(ClientFrameSchema, { id: 2n, body: { case: "sync", value: {} } }));
    device.send(create(ClientFrameSchema, { id: 3n, body: { case: "heartbeat", value: {} } }));
    const [pong] = await device.ws.received(1);
    assert.deepEqual([pong!.id, pong!.body.case], [3n, "pong"]);
    assert.equal(device.chat.calls.length, 1, "the sync still waits in the lane");
  });

  it("answers a frame with no request in it with an INVALID_ARGUMENT error frame, echoing its id", async () => {
    const device = deviceUnderTest();
    device.send(create(ClientFrameSchema, { id: 9n }));
    const [frame] = await device.ws.received(1);
    const error = errorOf(frame);
    assert.deepEqual([frame!.id, error.code, error.message, error.retryable], [9n, "INVALID_ARGUMENT", "the frame has no known request in it", false]);
  });

  for (const format of ["proto", "json"] as const) {
    it(`answers a request this gateway does not know (a newer client's, ${format}) with the same error frame`, async () => {
      const device = deviceUnderTest({ format });
      // Field 99 of ClientFrame, a length-delimited message of length 0: a case added to a later client.proto.
      const known = encodeClientFrame(create(ClientFrameSchema, { id: 4n }), "proto");
      device.receive(format === "proto" ? new Uint8Array([...known, 0x9a, 0x06, 0x00]) : '{"id":"4","futureRequest":{}}');
      const [frame] = await device.ws.received(1);
      assert.equal(frame!.id, 4n);
      assert.equal(errorOf(frame).code, "INVALID_ARGUMENT");
      assert.equal(device.chat.calls.length, 0);
    });
  }

  it("refuses a request with id 0, which no reply could be matched to", async () => {
    const device = deviceUnderTest();
    device.send(create(ClientFrameSchema, { id: 0n, body: { case: "send", value: {} } }));
    const [frame] = await device.ws.received(1);
    assert.match(errorOf(frame).message, /non-zero id/);
    assert.equal(device.chat.calls.length, 0);
  });

  it("turns chat's failures into error frames with the gRPC code name and whether to retry", async () => {
    const device = deviceUnderTest();
    device.chat.answer = async (op) => {
      if (op.case === "send") return { case: "error", value: { code: Code.PermissionDenied, message: "not a member" } } as Reply["result"];
      throw new ConnectError("the chat service is unreachable; retry", Code.Unavailable);
    };
    device.send(create(ClientFrameSchema, { id: 1n, body: { case: "send", value: {} } }));
    device.send(create(ClientFrameSchema, { id: 2n, body: { case: "history", value: {} } }));
    const frames = await device.ws.received(2);
    const byId = (id: bigint) => errorOf(frames.find((frame) => frame.id === id));
    assert.deepEqual([byId(1n).code, byId(1n).message, byId(1n).retryable], ["PERMISSION_DENIED", "not a member", false]);
    assert.deepEqual([byId(2n).code, byId(2n).retryable], ["UNAVAILABLE", true]);
  });

  it("writes every frame with the socket's writes held to the end of the turn", async () => {
    const device = deviceUnderTest();
    device.send(create(ClientFrameSchema, { id: 1n, body: { case: "heartbeat", value: {} } }));
    device.send(create(ClientFrameSchema, { id: 2n, body: { case: "send", value: {} } }));
    await device.ws.received(2);
    assert.deepEqual(device.ws.heldAtSend, [true, true]);
  });
});
