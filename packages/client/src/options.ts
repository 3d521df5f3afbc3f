import type { Message, MessageDeleted, MessageReacted, ReadReceipt, TypingEvent } from "@parley/contracts/parley/chat/v1/chat";
import type { Welcome } from "@parley/contracts/parley/client/v1/client";
import type { UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import { handshakeRefusal, WS_PATH, type CloseAction, type HandshakeRefusal, type WireFormat } from "@parley/wire";
import type { BackoffOptions } from "./backoff.js";
import type { ParleyError } from "./errors.js";
import type { DiscoveryOptions } from "./pick-gateway.js";
import { defaultSocketFactory, type SocketCloseInfo, type SocketFactory } from "./socket.js";

/** Why the client asks for a token: to connect, or because the server refused the last one (401, close 41xx). */
export type TokenReason = "connect" | "refused";

export interface ParleyClientOptions {
  /**
   * The gateway, such as "ws://localhost:8080" (the /ws path is added) or a
   * full "wss://chat.example/ws". With `discovery`, only a fallback: the
   * client asks discovery for a gateway before every connect.
   */
  url: string;
  /** Ask discovery (PickGateway) which gateway to use before each connect and reconnect. */
  discovery?: DiscoveryOptions;
  /** A fixed access token. Give this, getToken, or both. */
  token?: string;
  /**
   * Supplies access tokens: when there is no `token`, when the server refused
   * the last one ("refused": refresh or log in again), and before each attempt
   * after one that failed before the Welcome (browsers cannot see a 401, so
   * this is the chance to refresh an expired token). Return a cached token
   * while it is valid. If it throws, the client stops with an AuthenticationError.
   */
  getToken?: (reason: TokenReason) => string | Promise<string>;
  /** Wire format. Default "proto" (binary); "json" is easier to read in devtools. */
  format?: WireFormat;
  /**
   * The cursor this device persisted (the last "cursor" event): sync resumes
   * above it, so nothing is delivered twice across restarts.
   */
  cursor?: bigint | undefined;
  /**
   * Without a `cursor`: "beginning" syncs the whole inbox from seq 0 (the
   * default: a new device shows history), "server" starts from the cursor the
   * server stored for this device (Welcome.cursor_seq).
   */
  startFrom?: "beginning" | "server";
  /** Per-request timeout, and how long to wait for the Welcome. Default 10,000 ms. */
  requestTimeoutMs?: number;
  /**
   * How long a request may go with nothing at all heard from the gateway
   * before the connection is taken for stuck (a stopped or hung gateway keeps
   * the TCP connection open) and replaced; a heartbeat sent with the request
   * probes it, and a live gateway answers that at once whatever its upstreams
   * do. Default 1,000 ms: a client leaves a stopped gateway within about a
   * second. Not in a connection's first 5 s (PROBE_AFTER_MS): a connection
   * that young may be one of thousands moving off a dead gateway, and the
   * gateway taking them in is silent for a while too. 0 turns it off (two
   * unanswered heartbeat intervals then tell, 10 s by default); raise it on
   * links slower than the window.
   */
  probeTimeoutMs?: number;
  /** Entries per sync page, 1 to 1,000. Default 500. */
  syncPageSize?: number;
  /** How long to gather live entries before acknowledging the cursor. Default 200 ms. */
  ackDelayMs?: number;
  /** Reconnect and retry delays. Default 250 ms doubling to 30 s, full jitter. */
  backoff?: BackoffOptions;
  /** Opens sockets. Default: the `ws` package in Node, the global WebSocket in browsers. */
  socketFactory?: SocketFactory;
}

/** How a connection ended. */
export interface DisconnectInfo {
  code: number;
  reason: string;
  /** Set when the server refused the upgrade and the platform could see the status (Node's `ws`; never in browsers, which see only 1006). */
  httpStatus?: number;
  /** Why the upgrade was refused, with httpStatus: `origin_refused` and `unauthenticated` stop (or ask getToken), `unavailable` and `rate_limited` retry. */
  refusal?: HandshakeRefusal;
  /** What the code means for the client. */
  action: CloseAction;
  /** When the client will try again; absent when it stopped. */
  reconnectInMs?: number;
}

/** The events of ParleyClient, with their listener arguments. */
export interface ClientEvents {
  /** A connection was welcomed (first connect and every reconnect). */
  connected: [welcome: Welcome];
  /** A connection ended. */
  disconnected: [info: DisconnectInfo];
  /** A message in one of the user's conversations (their own sends too), exactly once, in seq order. */
  message: [message: Message, seq: bigint];
  /** Someone (possibly the user on another device) read a conversation up to a message; in seq order. */
  read: [receipt: ReadReceipt, seq: bigint];
  /**
   * A message was edited: the message with its new text and editedAt, exactly
   * once, in seq order. Met in a sync, it may already show a later change
   * (another edit, or deleted: true with no text).
   */
  edited: [message: Message, seq: bigint];
  /** A message was deleted for everyone (forEveryone), or by this user for themselves on another device; exactly once, in seq order. */
  deleted: [deletion: MessageDeleted, seq: bigint];
  /**
   * A member (this user too, on any device) added or removed a reaction;
   * exactly once, in seq order. `reactions` holds the message's counts as
   * they stood when the server read the entry (mine: this user's): replace
   * the counts shown with them.
   */
  reacted: [reaction: MessageReacted, seq: bigint];
  /** Someone started or stopped typing. Ephemeral. */
  typing: [event: TypingEvent];
  /** A friend's presence changed. */
  presence: [presence: UserPresence];
  /** The device holds every inbox entry up to `cursor` (persist it to resume there). */
  cursor: [cursor: bigint];
  /** A sync round finished. */
  synced: [cursor: bigint, headSeq: bigint];
  /** Something went wrong that no promise reports: a connection-level error frame, a failed sync, or why the client stopped. */
  error: [error: ParleyError];
}

/** How long after its Welcome a connection goes unprobed: longer than a fleet takes to move off a dead gateway (under 5 s, measured). */
export const PROBE_AFTER_MS = 5_000;

/** The options with their defaults applied. */
export interface ResolvedOptions {
  url: string;
  discovery: DiscoveryOptions | undefined;
  token: string | undefined;
  getToken: ParleyClientOptions["getToken"];
  format: WireFormat;
  cursor: bigint | undefined;
  startFrom: "beginning" | "server";
  requestTimeoutMs: number;
  probeTimeoutMs: number;
  /** Not an option: how long after its Welcome a connection is left unprobed (see probeTimeoutMs). */
  probeAfterMs: number;
  syncPageSize: number;
  ackDelayMs: number;
  backoff: BackoffOptions;
  socketFactory: SocketFactory;
}

/** Applies defaults and refuses options that cannot work, at construction rather than at the first connect. */
export function resolveOptions(options: ParleyClientOptions): ResolvedOptions {
  if (options.token === undefined && options.getToken === undefined) throw new TypeError("ParleyClient needs a token or getToken");
  const syncPageSize = options.syncPageSize ?? 500;
  if (!Number.isInteger(syncPageSize) || syncPageSize < 1 || syncPageSize > 1_000) throw new RangeError("syncPageSize must be 1 to 1000");
  return {
    url: endpoint(options.url),
    discovery: options.discovery,
    token: options.token,
    getToken: options.getToken,
    format: options.format ?? "proto",
    cursor: options.cursor,
    startFrom: options.startFrom ?? "beginning",
    requestTimeoutMs: positive(options.requestTimeoutMs ?? 10_000, "requestTimeoutMs"),
    probeTimeoutMs: nonNegative(options.probeTimeoutMs ?? 1_000, "probeTimeoutMs"),
    probeAfterMs: PROBE_AFTER_MS,
    syncPageSize,
    ackDelayMs: Math.max(0, options.ackDelayMs ?? 200),
    backoff: options.backoff ?? {},
    socketFactory: options.socketFactory ?? defaultSocketFactory,
  };
}

/** ws:// or wss:// with the /ws path; http(s) URLs are accepted and converted. */
export function endpoint(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") throw new TypeError(`url must be ws://, wss://, http:// or https:// (got ${url})`);
  if (parsed.pathname === "/" || parsed.pathname === "") parsed.pathname = WS_PATH;
  return parsed.toString();
}

function positive(value: number, name: string): number {
  if (!(value > 0)) throw new RangeError(`${name} must be positive`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!(value >= 0)) throw new RangeError(`${name} must be 0 or more`);
  return value;
}

/** What a close tells the application; the HTTP status only when the platform saw one. */
export function disconnectInfo(info: SocketCloseInfo): Pick<DisconnectInfo, "code" | "reason" | "httpStatus" | "refusal"> {
  const refused = info.httpStatus === undefined ? {} : { httpStatus: info.httpStatus, refusal: handshakeRefusal(info.httpStatus) };
  return { code: info.code, reason: info.reason, ...refused };
}
