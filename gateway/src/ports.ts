import type { UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import type { Command, Reply } from "@parley/contracts/parley/chat/v1/chat";

/** What a device's connection needs from presence (the presence link in the mesh). */
export interface PresencePort {
  heartbeat(userId: bigint, deviceId: bigint): void;
  getPresence(viewerId: bigint, userIds: bigint[]): Promise<UserPresence[]>;
}

/** The client request a command serves: "<sessionId>/<frameId>" is its request id; `traceparent` its span's, with tracing on. */
export interface CommandOrigin {
  sessionId: bigint;
  frameId: bigint;
  traceparent: string;
}

/** What a device's connection needs from chat: one command, answered by its reply (the chat links in the mesh). */
export interface ChatCommands {
  /** `origin`: the client request it serves (its log lines' request id, and its trace when tracing is on). */
  call(userId: bigint, deviceId: bigint, op: Command["op"], origin?: CommandOrigin): Promise<Reply["result"]>;
}

/**
 * What a device's socket tells the gateway's metrics. Called per frame, so
 * an implementation only bumps counters it made beforehand: no allocation,
 * never a throw. Kinds are the frame oneofs' case names as protobuf-es
 * spells them ("markRead"), or for a client frame "invalid" (not
 * decodable), "unknown" (no request this gateway knows) and "rate_limited"
 * (refused unread, over the frame rate).
 */
export interface SocketMeter {
  received(kind: string): void;
  sent(kind: string | undefined): void;
  /** A send was acknowledged: seconds from its frame's arrival to the write of its reply. */
  acked(seconds: number): void;
}

/** What the WebSocket endpoint tells the gateway's metrics (gateway/src/metrics.ts). */
export interface GatewayMeter {
  /** The meter of the sockets speaking one wire format. */
  forFormat(format: "proto" | "json"): SocketMeter;
  /** An upgrade request was answered: 101 when accepted, else the HTTP status that refused it. */
  upgrade(status: number): void;
  /** A socket closed with `code`: the gateway's own close (byServer), or the peer's (1006 when no close frame came). */
  closed(code: number, byServer: boolean): void;
}

/** Counts nothing: for tests and tools that run a gateway without metrics. */
export const noMeter: GatewayMeter & SocketMeter = {
  forFormat: () => noMeter,
  upgrade: () => {},
  closed: () => {},
  received: () => {},
  sent: () => {},
  acked: () => {},
};
