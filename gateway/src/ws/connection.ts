import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Reply } from "@parley/contracts/parley/chat/v1/chat";
import type { UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import { noMeter, type ChatCommands, type PresencePort, type SocketMeter } from "../ports.js";
import { CloseCode, ServerFrameSchema, type ClientFrame, type ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { binaryEncoder, decodeClientFrame, encodeServerFrame, isRetryableCode, type WireFormat } from "@parley/wire";
import { endSpan, SpanKind, startSpan, traceparentOf, withSpan, type Logger } from "@parley/runtime";
import type { WebSocket } from "ws";
import type { DeviceSocket } from "../domain/device-registry.js";
import { route, type ChatRequest, type QueuedFrame, type RequestTargets } from "./request-routes.js";
import type { LaneLimits, LaneMember, UserLane } from "../domain/user-lanes.js";
import { encodedOnce, type WriteBatcher } from "./write-batching.js";

// Binary frames go into Buffers from Node's pool: ws writes a Buffer as it is, and small frames share
// the pool's slabs instead of each holding an ArrayBuffer of its own for the collector to free.
const protoFrame = binaryEncoder(ServerFrameSchema, { allocate: Buffer.allocUnsafe });
const encode = encodedOnce((frame: ServerFrame, format: string) => (format === "proto" ? protoFrame(frame) : encodeServerFrame(frame, "json")));

export interface ConnectionLimits extends LaneLimits {
  /** Frames refused for rate in a row before the connection is closed (4002). */
  rateStrikes: number;
  /** Bytes the server may have queued for a slow reader before closing it (4001). */
  sendBufferBytes: number;
}

/**
 * One device's WebSocket: decodes frames, enforces its user's frame rate
 * and the send buffer bound, answers heartbeats, and turns requests into
 * chat commands on the shared ChatLinks, through its user's lane (at most so
 * many of the user's requests upstream at once). Replies echo the request id.
 */
export class DeviceConnection implements DeviceSocket, LaneMember<QueuedFrame>, RequestTargets {
  /** When the peer was last heard from (performance.now(), ms): a frame, a pong, or the socket resumed. */
  lastHeard = performance.now();
  /** The close code this gateway closed the socket with; 0 while it has not (the peer may close first). */
  closedWith = 0;
  /** Not being read because its user's queue is full; the silence is ours, not the peer's. */
  paused = false;
  private strikes = 0;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    /** Holds this socket's writes to the end of the turn. */
    private readonly writes: WriteBatcher,
    readonly userId: bigint,
    readonly deviceId: bigint,
    readonly sessionId: bigint,
    private readonly format: WireFormat,
    private readonly chatLink: ChatCommands,
    private readonly presence: PresencePort,
    private readonly limits: ConnectionLimits,
    private readonly lane: UserLane<QueuedFrame>,
    private readonly logger: Logger,
    /** This socket's format's counters. */
    private readonly meter: SocketMeter = noMeter,
  ) {
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on("pong", () => (this.lastHeard = performance.now()));
  }

  write(frame: ServerFrame): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount > this.limits.sendBufferBytes) {
      // A reader this far behind would grow server memory without bound: cut it; it will sync.
      this.close(CloseCode.SLOW_CONSUMER, "slow consumer: reconnect and sync");
      return false;
    }
    this.writes.hold();
    this.ws.send(encode(frame, this.format));
    this.meter.sent(frame.body.case);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closedWith = code;
    this.ws.close(code, reason);
    if (this.paused) this.ws.resume(); // to read the peer's close frame; frames before it are ignored
    // A peer that never answers the close handshake is cut after a bound.
    setTimeout(() => this.ws.terminate(), 5_000).unref();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    // The arrival time, also the start of a send's ack latency: one clock read per frame.
    const receivedAt = performance.now();
    this.lastHeard = receivedAt;
    if (!this.lane.bucket.take()) {
      this.meter.received("rate_limited");
      if (++this.strikes > this.limits.rateStrikes) {
        this.lane.block();
        this.close(CloseCode.RATE_LIMITED, "rate limit exceeded");
        return;
      }
      return void this.write(errorFrame(0n, Code.ResourceExhausted, `too many frames: at most ${this.limits.framesPerSecond} per second per user`));
    }
    this.strikes = 0;
    let frame: ClientFrame;
    try {
      if (isBinary !== (this.format === "proto")) throw new Error(`expected ${this.format === "proto" ? "binary" : "text"} frames`);
      frame = decodeClientFrame(isBinary ? new Uint8Array(data) : data.toString("utf8"), this.format);
    } catch (err) {
      this.meter.received("invalid");
      return void this.write(errorFrame(0n, Code.InvalidArgument, `the frame could not be decoded: ${(err as Error).message}`));
    }
    this.meter.received(frame.body.case ?? "unknown");
    this.handle(frame, receivedAt);
  }

  /** A getPresence request: presence's answer, or its error. */
  async answerPresence(id: bigint, userIds: bigint[]): Promise<void> {
    try {
      this.write(presenceListFrame(id, await this.presence.getPresence(this.userId, userIds)));
    } catch (err) {
      const e = ConnectError.from(err);
      this.write(errorFrame(id, e.code, e.rawMessage));
    }
  }

  /** Stops reading the socket (its user's queue is full): TCP pushes back on the client. */
  pause(): void {
    this.paused = true;
    this.ws.pause();
  }

  resume(): void {
    this.paused = false;
    this.lastHeard = performance.now();
    this.ws.resume();
  }

  private handle(frame: ClientFrame, receivedAt: number): void {
    const { id, body } = frame;
    if (body.case === undefined) return void this.write(errorFrame(id, Code.InvalidArgument, "the frame has no known request in it"));
    if (body.case === "heartbeat") {
      // Answered here, at no upstream cost: never queued behind the user's requests.
      this.presence.heartbeat(this.userId, this.deviceId);
      return void this.write(create(ServerFrameSchema, { id, body: { case: "pong", value: { serverTime: timestampNow() } } }));
    }
    if (id === 0n) return void this.write(errorFrame(0n, Code.InvalidArgument, "request frames need a non-zero id"));
    // Its body is a queued request (the cases above returned); TypeScript does not narrow the frame by its body.
    this.lane.submit(this, frame as QueuedFrame, receivedAt);
  }

  /** Runs a request when its user's lane gives it a place: a call to chat (or presence), then the reply. */
  async execute(frame: QueuedFrame, receivedAt: number): Promise<void> {
    // Its socket went while it waited: the client never sees a reply, so do not do the work.
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    return route(this, frame, receivedAt);
  }

  /** A request routed to chat: the Command op of the same name, then chat's reply (a send's ack timed from `receivedAt`). */
  async answerFromChat(id: bigint, request: ChatRequest, receivedAt: number): Promise<void> {
    // With tracing on, a request is a trace from here to its reply's write (and, for a send, its deliveries).
    const span = startSpan(`gateway ${request.case}`, SpanKind.SERVER);
    try {
      const origin = { sessionId: this.sessionId, frameId: id, traceparent: span ? traceparentOf(span) : "" };
      const result = await this.chatLink.call(this.userId, this.deviceId, request, origin);
      if (this.write(replyFrame(id, result)) && result.case === "send") this.meter.acked((performance.now() - receivedAt) / 1000);
      endSpan(span);
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.Internal) withSpan(span, () => this.logger.error({ err, request_id: `${this.sessionId}/${id}` }, "chat command failed"));
      this.write(errorFrame(id, e.code, e.rawMessage));
      endSpan(span, e);
    }
  }
}

function presenceListFrame(id: bigint, presences: UserPresence[]): ServerFrame {
  return create(ServerFrameSchema, { id, body: { case: "presenceList", value: { presences } } });
}

function replyFrame(id: bigint, result: Reply["result"]): ServerFrame {
  if (result.case === "error") return errorFrame(id, result.value.code as Code, result.value.message);
  // get_cursor is the gateway's own command (at connect), never a client's request.
  if (result.case === undefined || result.case === "getCursor") return errorFrame(id, Code.Internal, "empty reply");
  // A literal, not create(): one per command answered, on the hot path (docs/performance.md).
  return { $typeName: "parley.client.v1.ServerFrame", id, body: result };
}

export function errorFrame(id: bigint, code: Code, message: string): ServerFrame {
  const name = codeName(code);
  return create(ServerFrameSchema, { id, body: { case: "error", value: { code: name, message, retryable: isRetryableCode(name) } } });
}

/** "INVALID_ARGUMENT" from Code.InvalidArgument, as gRPC spells status names. */
function codeName(code: Code): string {
  return (Code[code] ?? "UNKNOWN").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
