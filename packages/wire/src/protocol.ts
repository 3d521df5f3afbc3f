/**
 * The client WebSocket protocol as both ends share it: the path, the
 * subprotocols, what a close code tells the client to do, which error codes
 * are worth retrying, and the frame codecs for both wire formats. The SDK
 * (`@parley/client`) and the gateway both import it from here, so the two
 * ends cannot drift apart, and the gateway does not depend on the SDK. No
 * Node-only imports: it runs in browsers too.
 *
 * proto/parley/client/v1/client.proto defines the frames and the close codes.
 */
import { create, fromBinary, fromJsonString, toBinary, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { ClientFrameSchema, ServerFrameSchema, type ClientFrame, type ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { binaryEncoder } from "./binary-encoder.js";

/** The WebSocket endpoint on the gateway's HTTP port. */
export const WS_PATH = "/ws";

/** Binary frames, each one protobuf-encoded message. The default. */
export const SUBPROTOCOL_PROTO = "parley.v1.proto";

/** Text frames in the protobuf JSON mapping (64-bit integers are decimal strings). */
export const SUBPROTOCOL_JSON = "parley.v1.json";

/**
 * Browsers cannot set an Authorization header on a WebSocket, so they offer
 * the access token as a second subprotocol `bearer.<token>`. The server reads
 * it and never echoes it. The token must consist of subprotocol token
 * characters (a JWT does: base64url and dots).
 */
export const TOKEN_SUBPROTOCOL_PREFIX = "bearer.";

/** The two frame formats, negotiated by subprotocol. */
export type WireFormat = "proto" | "json";

/** The subprotocol that selects a format. */
export function subprotocolOf(format: WireFormat): string {
  return format === "json" ? SUBPROTOCOL_JSON : SUBPROTOCOL_PROTO;
}

/** The format a subprotocol selects; undefined for anything else. */
export function formatOf(subprotocol: string): WireFormat | undefined {
  if (subprotocol === SUBPROTOCOL_PROTO) return "proto";
  if (subprotocol === SUBPROTOCOL_JSON) return "json";
  return undefined;
}

/**
 * What a client does when the connection closes: reconnect with jittered
 * backoff and sync; get a fresh access token first; or stop and surface an
 * error, because retrying cannot help.
 */
export type CloseAction = "reconnect" | "reauthenticate" | "stop";

/**
 * The close-code table. 4000-4099 (and 1001 going away, 1011 internal error)
 * reconnect; 4100-4199 reauthenticate; 4200-4299 and 1009 (frame too big)
 * stop. 1000 is a deliberate end, and the other RFC 6455 codes that mean a
 * broken client (1002, 1003, 1007, 1008, 1010) stop as well. Everything else,
 * notably 1006 (the network dropped, no close frame) and codes this version
 * does not know yet, reconnects: backoff bounds the cost of being wrong.
 */
export function closeAction(code: number): CloseAction {
  if (code >= 4000 && code <= 4099) return "reconnect";
  if (code >= 4100 && code <= 4199) return "reauthenticate";
  if (code >= 4200 && code <= 4299) return "stop";
  switch (code) {
    case 1000:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
      return "stop";
    default:
      return "reconnect";
  }
}

/**
 * What to do when the server refuses the upgrade with an HTTP status (only
 * visible to clients that see the response, such as the `ws` package):
 * 401 means the token is bad or expired; 400, 403 (Origin) and 404 will not
 * change by retrying; 429 and 5xx (503 while a gateway drains) will.
 */
export function handshakeAction(status: number): CloseAction {
  if (status === 401) return "reauthenticate";
  if (status === 400 || status === 403 || status === 404) return "stop";
  return "reconnect";
}

/**
 * Why the server refused an upgrade, named for the application (logs, a
 * message to the user) from the HTTP status, as the gateway uses them:
 * `origin_refused` (403: a browser page's Origin is not in
 * GATEWAY_ALLOWED_ORIGINS), `unauthenticated` (401: the token is missing,
 * bad, expired or logged out), `rate_limited` (429: too many sockets, or
 * flooding), `unavailable` (503: draining, or an upstream is down),
 * `bad_request` (400: an unsupported subprotocol), `not_found` (404: not the
 * WebSocket path), `server_error` (other 5xx), `refused` (any other status,
 * such as a proxy's). handshakeAction says what to do about each.
 */
export type HandshakeRefusal = "origin_refused" | "unauthenticated" | "rate_limited" | "unavailable" | "bad_request" | "not_found" | "server_error" | "refused";

const REFUSALS: Readonly<Record<number, HandshakeRefusal>> = {
  400: "bad_request",
  401: "unauthenticated",
  403: "origin_refused",
  404: "not_found",
  429: "rate_limited",
  503: "unavailable",
};

/** The refusal an HTTP status on a failed upgrade stands for. */
export function handshakeRefusal(status: number): HandshakeRefusal {
  return REFUSALS[status] ?? (status >= 500 ? "server_error" : "refused");
}

/** The close codes by name (CloseCode.TOKEN_EXPIRED is 4100), as client.proto defines them. */
export { CloseCode } from "@parley/contracts/parley/client/v1/client";

/**
 * The gRPC code names whose requests may succeed when repeated later: the
 * server was unavailable or overloaded, a conflict aborted the attempt, or it
 * ran out of time. Every Parley request is safe to repeat (sends carry
 * client_msg_id), so DEADLINE_EXCEEDED is among them.
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(["UNAVAILABLE", "RESOURCE_EXHAUSTED", "ABORTED", "DEADLINE_EXCEEDED"]);

/** Whether an error frame with this code name is marked `retryable`. */
export function isRetryableCode(code: string): boolean {
  return RETRYABLE_CODES.has(code);
}

/** A frame as it travels: bytes for "proto", text for "json". */
export type WireData = Uint8Array | string;

/** JSON parsing skips fields this version does not know, so newer servers and clients interoperate. */
const JSON_READ = { ignoreUnknownFields: true } as const;

/**
 * Server frames on JSON write every field, zero values included (`"cursorSeq":"0"`,
 * `"retryable":false`, `"entries":[]`), so a client written from docs/protocol.md
 * finds every field the docs show. Protobuf JSON still leaves out what has no
 * value at all: the oneof members that are not set and unset message fields
 * (`tokenExpiresAt` when absent). One frozen object, made once: encoding is on
 * the hot path for JSON clients.
 */
const JSON_WRITE_SERVER = Object.freeze({ alwaysEmitImplicit: true } as const);

export function encodeClientFrame(frame: MessageInitShape<typeof ClientFrameSchema>, format: "proto"): Uint8Array;
export function encodeClientFrame(frame: MessageInitShape<typeof ClientFrameSchema>, format: "json"): string;
export function encodeClientFrame(frame: MessageInitShape<typeof ClientFrameSchema>, format: WireFormat): WireData;
export function encodeClientFrame(frame: MessageInitShape<typeof ClientFrameSchema>, format: WireFormat): WireData {
  const message = create(ClientFrameSchema, frame);
  return format === "json" ? toJsonString(ClientFrameSchema, message) : toBinary(ClientFrameSchema, message);
}

/**
 * Server frames are encoded by generated code (./binary-encoder.ts), made at
 * first use so the package has no side effects at import. Only the server
 * encodes them: clients, browsers among them (whose pages may forbid
 * generated code), encode client frames with protobuf-es.
 */
let serverFrameEncoder: ((frame: ServerFrame) => Uint8Array) | undefined;
function serverEncoder(): (frame: ServerFrame) => Uint8Array {
  serverFrameEncoder ??= binaryEncoder(ServerFrameSchema);
  return serverFrameEncoder;
}

/** Throws when the data is not a valid frame of the format (the caller answers with an error frame). */
export function decodeClientFrame(data: WireData, format: WireFormat): ClientFrame {
  return format === "json" ? fromJsonString(ClientFrameSchema, expectText(data), JSON_READ) : fromBinary(ClientFrameSchema, expectBinary(data));
}

export function encodeServerFrame(frame: MessageInitShape<typeof ServerFrameSchema>, format: "proto"): Uint8Array;
export function encodeServerFrame(frame: MessageInitShape<typeof ServerFrameSchema>, format: "json"): string;
export function encodeServerFrame(frame: MessageInitShape<typeof ServerFrameSchema>, format: WireFormat): WireData;
export function encodeServerFrame(frame: MessageInitShape<typeof ServerFrameSchema>, format: WireFormat): WireData {
  const message = create(ServerFrameSchema, frame);
  return format === "json" ? toJsonString(ServerFrameSchema, message, JSON_WRITE_SERVER) : serverEncoder()(message);
}

/** Throws when the data is not a valid frame of the format. */
export function decodeServerFrame(data: WireData, format: WireFormat): ServerFrame {
  return format === "json" ? fromJsonString(ServerFrameSchema, expectText(data), JSON_READ) : fromBinary(ServerFrameSchema, expectBinary(data));
}

/** The size of an encoded frame in bytes, to check against Welcome.max_frame_bytes before sending. */
export function frameBytes(data: WireData): number {
  return typeof data === "string" ? utf8.encode(data).byteLength : data.byteLength;
}

const utf8 = new TextEncoder();

function expectText(data: WireData): string {
  if (typeof data !== "string") throw new TypeError(`${SUBPROTOCOL_JSON} carries text frames, got a binary frame`);
  return data;
}

function expectBinary(data: WireData): Uint8Array {
  if (typeof data === "string") throw new TypeError(`${SUBPROTOCOL_PROTO} carries binary frames, got a text frame`);
  return data;
}
