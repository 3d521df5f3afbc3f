import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { TokenChecks } from "../adapters/token-checks.js";
import type { SessionsEnded, VerifyTokenResponse } from "@parley/contracts/parley/account/v1/account";
import { ChatService, GetCursorRequestSchema, type GetCursorResponse } from "@parley/contracts/parley/chat/v1/chat";
import { CloseCode, ServerFrameSchema } from "@parley/contracts/parley/client/v1/client";
import { WS_PATH, type WireFormat } from "@parley/wire";
import { DEVICE_HEADER, isOutage, USER_HEADER, type Logger } from "@parley/runtime";
import { WebSocketServer, type WebSocket } from "ws";
import type { ChatCommands, GatewayMeter, PresencePort } from "../ports.js";
import { DeviceConnection, type ConnectionLimits } from "./connection.js";
import { originAllowed, readHandshake, sameOrigin } from "./handshake.js";
import type { DeviceRegistry } from "../domain/device-registry.js";
import type { QueuedFrame } from "./request-routes.js";
import { sessionEndClose } from "./session-end.js";
import { UserLanes } from "../domain/user-lanes.js";
import { WriteBatcher } from "./write-batching.js";

export interface WebSocketOptions {
  allowedOrigins: readonly string[];
  /** Also accept pages from this gateway's own origin (it serves the web app); other origins still need the allowlist. */
  allowSameOrigin?: boolean;
  maxFrameBytes: number;
  heartbeatIntervalMs: number;
  limits: ConnectionLimits;
  /** Sockets one device (one access token) may hold open on this gateway at once; more are refused with 429. */
  maxSocketsPerDevice: number;
  /** Sockets one user may hold open on this gateway at once, over all their devices; more are refused with 429. */
  maxSocketsPerUser: number;
}

export interface WebSocketDeps {
  account: Transport;
  presence: PresencePort & {
    connected(userId: bigint, deviceId: bigint): void;
    disconnected(userId: bigint, deviceId: bigint): void;
  };
  chatTransport: Transport;
  chatLink: ChatCommands;
  registry: DeviceRegistry;
  logger: Logger;
  /** Counts upgrades, closes and each socket's frames. */
  meter: GatewayMeter;
}

/** How long drain() waits for clients to close their sockets (close code 1001) before cutting the rest. */
export const SOCKET_CLOSE_WAIT_MS = 5_000;

/**
 * The client WebSocket endpoint on the gateway's HTTP port. Authentication
 * happens before the upgrade (401 for a missing, bad or logged-out token,
 * 403 for a browser origin outside the allowlist), so an unauthenticated
 * client never holds a socket.
 */
export function attachWebSocket(server: Server, options: WebSocketOptions, deps: WebSocketDeps) {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: options.maxFrameBytes,
    // Answer with the format only: ws would otherwise echo the first offer, which may be the token.
    handleProtocols: (_offered, req) => {
      const handshake = readHandshake(req);
      return "error" in handshake || handshake.protocol === undefined ? false : handshake.protocol;
    },
  });
  const tokens = new TokenChecks(deps.account);
  const chat = createClient(ChatService, deps.chatTransport);
  const connections = new Set<DeviceConnection>();
  const lanes = new UserLanes<QueuedFrame>(options.limits);
  let draining = false;
  // One function for every socket: a closure made in accept() would live as long as its connection.
  const onSocketError = (err: Error) => deps.logger.debug({ err }, "websocket error");
  const refuse = (socket: Duplex, status: number, message: string): void => {
    deps.meter.upgrade(status);
    refuseUpgrade(socket, status, message);
  };

  /**
   * Why one more socket for this device would be too many, or undefined.
   * Checked again right before the upgrade, in the same turn as the
   * registration, so concurrent upgrades cannot overshoot the caps.
   */
  function socketCapRefusal(userId: bigint, deviceId: bigint): string | undefined {
    const blockedMs = lanes.get(userId)?.blockedForMs ?? 0;
    if (blockedMs > 0) return `rate limited: a connection of this account was closed for flooding; reconnect in ${Math.ceil(blockedMs / 1000)} s`;
    if (deps.registry.countForDevice(deviceId) >= options.maxSocketsPerDevice) {
      return `too many connections for this device: at most ${options.maxSocketsPerDevice} at once; close one first`;
    }
    if (deps.registry.countForUser(userId) >= options.maxSocketsPerUser) {
      return `too many connections for this account: at most ${options.maxSocketsPerUser} at once on this server; close one first`;
    }
    return undefined;
  }

  /**
   * The device's cursor and its user's head, asked on the chat stream (one
   * message among many, not a call of its own); undefined when chat cannot
   * answer. A chat instance older than the get_cursor command answers it
   * with an error: it is then asked with the GetCursor call it knows.
   */
  async function readCursor(userId: bigint, deviceId: bigint): Promise<GetCursorResponse | undefined> {
    const result = await deps.chatLink.call(userId, deviceId, { case: "getCursor", value: create(GetCursorRequestSchema) }).catch(() => undefined);
    if (result?.case === "getCursor") return result.value;
    if (result?.case !== "error" || (result.value.code !== Code.Internal && result.value.code !== Code.Unimplemented)) return undefined;
    return chat.getCursor({}, { headers: actorHeaders(userId, deviceId) }).catch(() => undefined);
  }

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      if (new URL(req.url ?? "/", "http://x").pathname !== WS_PATH) return refuse(socket, 404, "not found");
      if (draining) return refuse(socket, 503, "the gateway is shutting down; reconnect elsewhere");
      const ownPage = options.allowSameOrigin === true && sameOrigin(req.headers.origin, req.headers.host);
      if (!ownPage && !originAllowed(req.headers.origin, options.allowedOrigins)) return refuse(socket, 403, "origin not allowed");
      const handshake = readHandshake(req);
      if ("error" in handshake) return refuse(socket, 400, handshake.error);
      if (!handshake.token) return refuse(socket, 401, "an access token is required");
      let identity: VerifyTokenResponse;
      try {
        identity = await tokens.check(handshake.token);
      } catch (err) {
        // An account outage says nothing about the token: 503 makes clients retry rather than log in again.
        if (isOutage(err)) return refuse(socket, 503, "the account service is unavailable; retry");
        const { code } = ConnectError.from(err);
        if (code !== Code.Unauthenticated && code !== Code.InvalidArgument) throw err; // a bug: 500, logged below
        return refuse(socket, 401, "the access token is not valid, expired, or its device logged out");
      }
      let capped = socketCapRefusal(identity.userId, identity.deviceId);
      if (capped) return refuse(socket, 429, capped);
      const cursor = await readCursor(identity.userId, identity.deviceId);
      if (cursor === undefined) return refuse(socket, 503, "chat is unavailable; retry");
      capped = socketCapRefusal(identity.userId, identity.deviceId);
      if (capped) return refuse(socket, 429, capped);
      const expiresAt = identity.expiresAt ? Number(identity.expiresAt.seconds) * 1000 : Date.now() + 3_600_000;
      const session = {
        userId: identity.userId,
        deviceId: identity.deviceId,
        sessionId: identity.sessionId,
        format: handshake.format,
        expiresAt,
        cursorSeq: cursor.seq,
        headSeq: cursor.headSeq,
      };
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, socket, session));
    })().catch((err: unknown) => {
      deps.logger.error({ err }, "upgrade failed");
      refuse(socket, 500, "internal error");
    });
  });

  /**
   * Sets up an upgraded socket. A function of its own, so the closures that
   * live as long as the connection hold only what they need, not the
   * upgrade request, its headers (the token) and buffers.
   */
  function accept(
    ws: WebSocket,
    socket: Duplex,
    session: { userId: bigint; deviceId: bigint; sessionId: bigint; format: WireFormat; expiresAt: number; cursorSeq: bigint; headSeq: bigint },
  ): void {
    const { userId, deviceId } = session;
    const lane = lanes.join(userId);
    const connection = new DeviceConnection(
      ws,
      new WriteBatcher(socket),
      userId,
      deviceId,
      session.sessionId,
      session.format,
      deps.chatLink,
      deps.presence,
      options.limits,
      lane,
      deps.logger,
      deps.meter.forFormat(session.format),
    );
    deps.meter.upgrade(101);
    connections.add(connection);
    // A device may overlap two sockets while it reconnects: presence hears of the first and the last.
    const first = isEmpty(deps.registry.socketsOf(deviceId));
    deps.registry.add(connection);
    if (first) deps.presence.connected(userId, deviceId);
    const expiry = setTimeout(() => connection.close(CloseCode.TOKEN_EXPIRED, "access token expired"), Math.max(0, session.expiresAt - Date.now()));
    ws.on("close", (code: number) => {
      deps.meter.closed(connection.closedWith || code, connection.closedWith !== 0);
      clearTimeout(expiry);
      connections.delete(connection);
      lanes.leave(lane, connection);
      deps.registry.remove(connection);
      if (isEmpty(deps.registry.socketsOf(deviceId))) deps.presence.disconnected(userId, deviceId);
    });
    ws.on("error", onSocketError);
    connection.write(
      create(ServerFrameSchema, {
        body: {
          case: "welcome",
          value: {
            userId,
            deviceId,
            heartbeatIntervalMs: options.heartbeatIntervalMs,
            maxFrameBytes: options.maxFrameBytes,
            cursorSeq: session.cursorSeq,
            headSeq: session.headSeq,
            tokenExpiresAt: timestampFromDate(new Date(session.expiresAt)),
          },
        },
      }),
    );
  }

  // Dead connections: a ping every interval; silence for three intervals closes the socket.
  const sweeper = setInterval(() => {
    const deadline = performance.now() - options.heartbeatIntervalMs * 3;
    for (const connection of connections) {
      if (connection.lastHeard < deadline && !connection.paused) connection.close(CloseCode.HEARTBEAT_TIMEOUT, "no heartbeat");
    }
    for (const ws of wss.clients) ws.ping();
    lanes.sweep();
  }, options.heartbeatIntervalMs);
  sweeper.unref();

  return {
    get connections() {
      return connections.size;
    },
    /** Closes every socket with 1001 (reconnect elsewhere) and stops accepting upgrades. */
    async drain(): Promise<void> {
      draining = true;
      clearInterval(sweeper);
      for (const connection of connections) connection.close(1001, "gateway shutting down; reconnect");
      const deadline = Date.now() + SOCKET_CLOSE_WAIT_MS;
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
    /** Closes the sockets of ended sessions (every socket of the user with allSessions) with the reason's close code. */
    endSessions(ended: Pick<SessionsEnded, "userId" | "sessionIds" | "allSessions" | "reason">): void {
      const { code, reason } = sessionEndClose(ended.reason);
      const ids = new Set(ended.sessionIds);
      for (const socket of [...deps.registry.devicesOf(ended.userId)]) {
        if (ended.allSessions || ids.has(socket.sessionId)) socket.close(code, reason);
      }
    },
    /** Closes the sockets of a logged-out device with 4101 (the event of account instances that predate sessionsEnded). */
    logOut(userId: bigint, deviceId: bigint): void {
      for (const socket of deps.registry.devicesOf(userId)) {
        if (socket.deviceId === deviceId) socket.close(CloseCode.LOGGED_OUT, "device logged out");
      }
    },
  };
}

export type WebSocketEndpoint = ReturnType<typeof attachWebSocket>;

export function actorHeaders(userId: bigint, deviceId: bigint): Headers {
  return new Headers({ [USER_HEADER]: userId.toString(), [DEVICE_HEADER]: deviceId.toString() });
}

function isEmpty(items: Iterable<unknown>): boolean {
  for (const _ of items) return false;
  return true;
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
  }[status];
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message) + 1}\r\nConnection: close\r\n\r\n${message}\n`,
  );
}

export type { WebSocket };
