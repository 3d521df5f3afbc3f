import { CloseCode, type ServerFrame, type Welcome } from "@parley/contracts/parley/client/v1/client";
import {
  closeAction,
  decodeServerFrame,
  encodeClientFrame,
  frameBytes,
  handshakeAction,
  requestBody,
  subprotocolOf,
  type ReplyOf,
  type RequestBody,
  type RequestKind,
  type WireData,
  type WireFormat,
} from "@parley/wire";
import { ConnectionClosedError, ParleyError } from "./errors.js";
import { PendingRequests } from "./requests.js";
import type { ParleySocket, SocketCloseInfo, SocketFactory } from "./socket.js";

export interface ConnectionOptions {
  url: string;
  format: WireFormat;
  token: string;
  socketFactory: SocketFactory;
  /** Per-request timeout, and how long to wait for the Welcome after dialling. */
  requestTimeoutMs: number;
  /** How long a request may go with nothing at all heard before the server is taken for stuck (0: never). */
  probeTimeoutMs: number;
  /** How long after the Welcome the probe starts watching (a young connection may be part of a reconnect storm). */
  probeAfterMs: number;
}

/** What a connection reports; `closed` comes exactly once, after every request in flight has failed. */
export interface ConnectionHooks {
  welcome(welcome: Welcome): void;
  /** A frame the server pushed (id 0): entry, typing, presence, or a connection-level error. */
  push(frame: ServerFrame): void;
  /** A frame that could not be decoded. The connection stays up. */
  malformed(err: unknown): void;
  closed(info: SocketCloseInfo): void;
}

/** Used when the server does not say (a zero in Welcome). */
const DEFAULT_HEARTBEAT_MS = 5_000;

/**
 * One WebSocket's life: dial, wait for the Welcome, match replies to requests,
 * send heartbeats, end. It does not reconnect; ParleyClient opens a new one.
 * A server that stops answering heartbeats for two intervals is given up on
 * locally with 4000, as the server would do to a silent client. Sooner when
 * the client is waiting: while requests wait and the server is quiet, a
 * heartbeat goes out every quarter of probeTimeoutMs (a live gateway answers
 * it at once, whatever its upstreams are doing), and when nothing at all has
 * arrived for probeTimeoutMs the gateway is taken for stuck (stopped, hung:
 * its TCP connection stays open) and the connection is closed with 4000, so
 * the client reconnects elsewhere and resends. Not in the first probeAfterMs
 * after the Welcome: a connection that young may have arrived with thousands
 * of others (a gateway died and its clients moved), and a gateway busy taking
 * them in is silent too; closing there would only add to the storm.
 */
export class Connection {
  private socket: ParleySocket | undefined;
  private readonly pending = new PendingRequests();
  private greeting: Welcome | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private ended: ConnectionClosedError | undefined;
  private lastHeard = 0;
  private welcomedAt = 0;
  private probe: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {}

  /** The server's Welcome, once it arrived. */
  get welcome(): Welcome | undefined {
    return this.greeting;
  }

  get isEnded(): boolean {
    return this.ended !== undefined;
  }

  /** Dials. Progress is reported through the hooks. */
  open(): void {
    const { url, format, token, socketFactory, requestTimeoutMs } = this.options;
    const protocol = subprotocolOf(format);
    this.timer = setTimeout(() => this.close(CloseCode.HEARTBEAT_TIMEOUT, "no welcome in time"), requestTimeoutMs);
    const listener = {
      open: (selected: string) => {
        // A server that ignored our format would send frames we misread; treat it as a protocol error (stop).
        if (selected !== protocol) this.close(1002, "unexpected subprotocol");
      },
      message: (data: WireData) => this.receive(data),
      close: (info: SocketCloseInfo) => this.end(info),
    };
    Promise.resolve()
      .then(() => socketFactory({ url, protocol, token }, listener))
      .then(
        (socket) => {
          if (this.ended) socket.close(1000, "closed while connecting");
          else this.socket = socket;
        },
        (error: unknown) => this.end({ code: 1006, reason: "the socket could not be opened", error }),
      );
  }

  /**
   * Sends a request and waits for its reply. Rejects with the server's error
   * (ParleyError), DEADLINE_EXCEEDED after the timeout, INVALID_ARGUMENT for a
   * frame above Welcome.max_frame_bytes (never sent: the server would close
   * with 1009), or ConnectionClosedError.
   */
  request<K extends RequestKind>(kind: K, body: RequestBody<K>, timeoutMs = this.options.requestTimeoutMs): Promise<ReplyOf<K>> {
    const socket = this.socket;
    if (this.ended) return Promise.reject(this.ended);
    if (!socket || !this.greeting) return Promise.reject(new ParleyError("UNAVAILABLE", "not connected yet", true));
    const { id, reply } = this.pending.add(kind, timeoutMs);
    try {
      const data = encodeClientFrame({ id, body: requestBody(kind, body) }, this.options.format);
      const size = frameBytes(data);
      const limit = this.greeting.maxFrameBytes;
      if (limit > 0 && size > limit) {
        this.pending.fail(id, new ParleyError("INVALID_ARGUMENT", `the ${kind} frame is ${size} bytes; the server accepts at most ${limit}`));
      } else {
        socket.send(data);
        if (kind !== "heartbeat") this.probeServer();
      }
    } catch (err) {
      this.pending.fail(id, new ParleyError("UNAVAILABLE", `the ${kind} request could not be sent`, true, { cause: err }));
    }
    return reply;
  }

  /** Closes; the closed hook runs now, with this code, without waiting for the closing handshake. */
  close(code: number, reason: string): void {
    const socket = this.socket;
    this.end({ code, reason });
    try {
      socket?.close(code, reason);
    } catch {
      // Already closing or closed: nothing left to do.
    }
  }

  private receive(data: WireData): void {
    if (this.ended) return;
    this.lastHeard = performance.now();
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(data, this.options.format);
    } catch (err) {
      this.hooks.malformed(err);
      return;
    }
    if (frame.id !== 0n) {
      this.pending.settle(frame); // no match: a late reply to a request that timed out
    } else if (frame.body.case === "welcome") {
      this.greet(frame.body.value);
    } else {
      this.hooks.push(frame);
    }
  }

  private greet(welcome: Welcome): void {
    if (this.greeting) return;
    this.greeting = welcome;
    this.welcomedAt = performance.now();
    clearTimeout(this.timer);
    const interval = welcome.heartbeatIntervalMs || DEFAULT_HEARTBEAT_MS;
    this.heartbeat = setInterval(() => this.beat(interval), interval);
    this.hooks.welcome(welcome);
  }

  private beat(interval: number): void {
    this.request("heartbeat", {}, 2 * interval).catch((err: unknown) => {
      if (err instanceof ParleyError && err.code === "DEADLINE_EXCEEDED") {
        this.close(CloseCode.HEARTBEAT_TIMEOUT, "the server stopped answering heartbeats");
      }
    });
  }

  /** Watches the server while requests wait, unless already watching: see the class comment. */
  private probeServer(): void {
    const windowMs = this.options.probeTimeoutMs;
    if (windowMs <= 0 || this.probe !== undefined) return;
    const since = performance.now();
    if (since - this.welcomedAt < this.options.probeAfterMs) return;
    let probedAt = Number.NEGATIVE_INFINITY;
    let watchedFrom = since;
    let lastTick = since;
    const tick = () => {
      if (this.ended || this.pending.size === 0) {
        clearInterval(this.probe);
        this.probe = undefined;
        return;
      }
      const now = performance.now();
      // A tick this late means this process was not running (a busy or suspended device, a background
      // tab's throttled timers): the silence is ours, not the server's, so it gets a fresh window.
      if (now - lastTick >= windowMs / 2) watchedFrom = now;
      lastTick = now;
      const heard = Math.max(this.lastHeard, watchedFrom);
      if (now - heard >= windowMs) return this.close(CloseCode.HEARTBEAT_TIMEOUT, "the server stopped answering");
      // Quiet for a while: a heartbeat, which a live gateway answers at once whatever its upstreams
      // do; one at a time (the last one answered first), so a busy gateway is not asked more.
      if (now - this.lastHeard >= windowMs / 4 && this.lastHeard >= probedAt) {
        probedAt = now;
        this.request("heartbeat", {}, windowMs).catch(() => {});
      }
    };
    this.probe = setInterval(tick, windowMs / 4);
    tick();
  }

  private end(info: SocketCloseInfo): void {
    if (this.ended) return;
    clearInterval(this.probe);
    const action = info.httpStatus === undefined ? closeAction(info.code) : handshakeAction(info.httpStatus);
    this.ended = new ConnectionClosedError(info.code, info.reason, action, info.httpStatus);
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    this.pending.failAll(this.ended);
    this.hooks.closed(info);
  }
}
