/**
 * The load generator's connections: lean on purpose, so the load generator's
 * own cost per message stays small next to the system it measures. Parley's
 * is a raw WebSocket speaking the binary codec the SDK and the gateway share
 * (`@parley/wire`); the relay's is the same socket with the relay's
 * four-byte header.
 */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import type { Message } from "@parley/contracts/parley/chat/v1/chat";
import type { ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { decodeServerFrame, encodeClientFrame, SUBPROTOCOL_PROTO, WS_PATH } from "@parley/wire";

export interface ParleyConn {
  readonly userId: bigint;
  readonly deviceId: bigint;
  /** The device's stored cursor when it connected. */
  readonly cursorSeq: bigint;
  /** Sends a message; resolves with the ack's arrival time. */
  send(conversationId: bigint, clientMsgId: string, text: string): Promise<number>;
  /** Any request, resolved with its reply frame. */
  request(body: NonNullable<Parameters<typeof encodeClientFrame>[0]["body"]>): Promise<ServerFrame>;
  /** A request sent without waiting for its reply (a flood); its reply, if any, goes to onUnawaited. */
  fire(body: NonNullable<Parameters<typeof encodeClientFrame>[0]["body"]>): void;
  /** Called with replies no request() waits for. */
  onUnawaited: (frame: ServerFrame) => void;
  /** Bytes written but not yet handed to the network (the socket pushing back). */
  readonly bufferedAmount: number;
  /** Called for each message entry, with its arrival time. */
  onMessage: (message: Message, seq: bigint, at: number) => void;
  /** Calls `listener` with the close code when the socket closes (at once if it already has). */
  onClose(listener: (code: number) => void): void;
  close(): Promise<void>;
  /** Drops the connection at once, with no close handshake. */
  terminate(): void;
}

/** Opens a device connection with its access token and waits for the welcome. */
export function connectParley(baseUrl: string, token: string): Promise<ParleyConn> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}${WS_PATH}`, [SUBPROTOCOL_PROTO], {
    headers: { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
  });
  ws.binaryType = "nodebuffer";
  const pending = new Map<bigint, { resolve: (f: ServerFrame) => void; reject: (e: Error) => void }>();
  let nextId = 1n;
  let heartbeat: NodeJS.Timeout | undefined;
  let highestSeq = 0n;
  let ackedSeq = 0n;
  let closedWith: number | undefined;
  const closeListeners: ((code: number) => void)[] = [];
  return new Promise((resolve, reject) => {
    const conn: ParleyConn & { userId: bigint; deviceId: bigint; cursorSeq: bigint } = {
      userId: 0n,
      deviceId: 0n,
      cursorSeq: 0n,
      onMessage: () => {},
      onUnawaited: () => {},
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      fire(body) {
        ws.send(encodeClientFrame({ id: nextId++, body }, "proto"));
      },
      onClose(listener) {
        if (closedWith !== undefined) listener(closedWith);
        else closeListeners.push(listener);
      },
      request(body) {
        const id = nextId++;
        return new Promise<ServerFrame>((res, rej) => {
          pending.set(id, { resolve: res, reject: rej });
          ws.send(encodeClientFrame({ id, body }, "proto"));
        });
      },
      async send(conversationId, clientMsgId, text) {
        const reply = await conn.request({ case: "send", value: { conversationId, clientMsgId, text } });
        if (reply.body.case !== "send") throw new Error(`send failed: ${JSON.stringify(reply.body.value)}`);
        return performance.now();
      },
      terminate() {
        clearInterval(heartbeat);
        ws.terminate();
      },
      async close() {
        clearInterval(heartbeat);
        if (ws.readyState === WebSocket.CLOSED) return;
        await new Promise<void>((done) => {
          ws.once("close", () => done());
          ws.close(1000);
        });
      },
    };
    ws.on("message", (data: Buffer) => {
      const at = performance.now();
      const frame = decodeServerFrame(data, "proto");
      const body = frame.body;
      if (body.case === "welcome") {
        conn.userId = body.value.userId;
        conn.deviceId = body.value.deviceId;
        conn.cursorSeq = body.value.cursorSeq;
        highestSeq = ackedSeq = body.value.headSeq;
        heartbeat = setInterval(
          () => ws.send(encodeClientFrame({ id: 0n, body: { case: "heartbeat", value: {} } }, "proto")),
          Math.max(1_000, body.value.heartbeatIntervalMs),
        );
        heartbeat.unref();
        resolve(conn);
      } else if (body.case === "entry") {
        const entry = body.value;
        if (entry.seq > highestSeq) highestSeq = entry.seq;
        if (entry.item.case === "message") conn.onMessage(entry.item.value, entry.seq, at);
        // Acknowledge the cursor every 100 entries, as the SDK does in batches.
        if (highestSeq - ackedSeq >= 100n) {
          ackedSeq = highestSeq;
          // A request like any other (id 0 is refused with an error frame); its reply goes to onUnawaited.
          ws.send(encodeClientFrame({ id: nextId++, body: { case: "ackCursor", value: { seq: highestSeq } } }, "proto"));
        }
      } else if (frame.id !== 0n) {
        const waiter = pending.get(frame.id);
        pending.delete(frame.id);
        if (!waiter) conn.onUnawaited(frame);
        else if (body.case === "error") waiter.reject(new Error(`${body.value.code}: ${body.value.message}`));
        else waiter.resolve(frame);
      }
    });
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once("error", reject);
    ws.on("close", (code) => {
      clearInterval(heartbeat);
      closedWith = code;
      for (const waiter of pending.values()) waiter.reject(new Error(`connection closed (${code})`));
      pending.clear();
      for (const listener of closeListeners.splice(0)) listener(code);
    });
  });
}

export interface RelayConn {
  readonly id: number;
  /** Sends `body` to connection `to` (or, for a group registered with `group`, to its members). */
  send(to: number, body: Buffer): void;
  /** Registers a fan-out group on the relay. */
  group(groupId: number, members: number[]): void;
  onMessage: (body: Buffer, at: number) => void;
  close(): Promise<void>;
}

/**
 * A relay connection. Frames are `[to: uint32 BE][body]`; `to` with the top
 * bit set names a group, and a frame to 0xFFFFFFFF registers a group
 * (`[groupId][member...]`, uint32 each). The relay routes and nothing else.
 */
export function connectRelay(url: string, id: number): Promise<RelayConn> {
  const ws = new WebSocket(`${url}/?id=${id}`, { perMessageDeflate: false });
  ws.binaryType = "nodebuffer";
  return new Promise((resolve, reject) => {
    const conn: RelayConn = {
      id,
      onMessage: () => {},
      send(to, body) {
        const frame = Buffer.allocUnsafe(4 + body.length);
        frame.writeUInt32BE(to, 0);
        body.copy(frame, 4);
        ws.send(frame);
      },
      group(groupId, members) {
        const frame = Buffer.allocUnsafe(8 + members.length * 4);
        frame.writeUInt32BE(0xffffffff, 0);
        frame.writeUInt32BE(groupId, 4);
        for (const [i, m] of members.entries()) frame.writeUInt32BE(m, 8 + i * 4);
        ws.send(frame);
      },
      async close() {
        if (ws.readyState === WebSocket.CLOSED) return;
        await new Promise<void>((done) => {
          ws.once("close", () => done());
          ws.close(1000);
        });
      },
    };
    ws.on("message", (data: Buffer) => conn.onMessage(data, performance.now()));
    ws.once("open", () => resolve(conn));
    ws.once("error", reject);
  });
}
