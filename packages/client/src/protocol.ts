import { fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import {
  ClientFrameSchema,
  CloseCode,
  ServerFrameSchema,
  type ClientFrame,
  type ServerFrame,
} from "@parley/contracts/parley/client/v1/client";

/** Constants and codecs of the WebSocket protocol, shared by the SDK and the gateway (docs/protocol.md). */
export const WS_PATH = "/ws";
export const SUBPROTOCOL_PROTO = "parley.v1.proto";
export const SUBPROTOCOL_JSON = "parley.v1.json";
/** Browsers pass the access token as a subprotocol `bearer.<token>`. */
export const TOKEN_SUBPROTOCOL_PREFIX = "bearer.";

export type WireFormat = "proto" | "json";

export function encodeClientFrame(frame: ClientFrame, format: WireFormat): Uint8Array | string {
  return format === "proto" ? toBinary(ClientFrameSchema, frame) : toJsonString(ClientFrameSchema, frame);
}

export function decodeClientFrame(data: Uint8Array | string, format: WireFormat): ClientFrame {
  return format === "proto" || typeof data !== "string"
    ? fromBinary(ClientFrameSchema, typeof data === "string" ? new TextEncoder().encode(data) : data)
    : fromJsonString(ClientFrameSchema, data, { ignoreUnknownFields: true });
}

export function encodeServerFrame(frame: ServerFrame, format: WireFormat): Uint8Array | string {
  return format === "proto" ? toBinary(ServerFrameSchema, frame) : toJsonString(ServerFrameSchema, frame);
}

export function decodeServerFrame(data: Uint8Array | string, format: WireFormat): ServerFrame {
  return format === "proto" || typeof data !== "string"
    ? fromBinary(ServerFrameSchema, typeof data === "string" ? new TextEncoder().encode(data) : data)
    : fromJsonString(ServerFrameSchema, data, { ignoreUnknownFields: true });
}

/** What a client should do after the server closed with `code`. */
export function closeAction(code: number): "reconnect" | "reauthenticate" | "stop" {
  if (code >= 4100 && code < 4200) return "reauthenticate";
  if (code >= 4200 && code < 4300) return "stop";
  if (code === 1009 || code === 1007 || code === 1008 || code === 1002 || code === 1003) return "stop";
  if (code === 1000) return "stop";
  return "reconnect";
}

const RETRYABLE = new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"]);

/** Whether a request that failed with this gRPC status name may succeed if sent again later. */
export function isRetryableCode(code: string): boolean {
  return RETRYABLE.has(code);
}

export { CloseCode };
