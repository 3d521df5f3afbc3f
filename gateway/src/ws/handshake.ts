import type { IncomingMessage } from "node:http";
import { SUBPROTOCOL_JSON, SUBPROTOCOL_PROTO, TOKEN_SUBPROTOCOL_PREFIX, type WireFormat } from "@parley/wire";

export interface Handshake {
  token: string | undefined;
  format: WireFormat;
  /** The subprotocol to answer with; undefined when the client offered none. */
  protocol: string | undefined;
}

/**
 * Reads the upgrade request: the access token from `Authorization: Bearer`
 * (native clients) or from a `bearer.<token>` subprotocol (browsers, which
 * cannot set headers), never from the URL, which ends up in logs; and the
 * frame format from the offered subprotocols (binary protobuf by default).
 */
export function readHandshake(req: IncomingMessage): Handshake | { error: string } {
  const offered = (req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const tokenProtocol = offered.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  const formats = offered.filter((p) => !p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  const authorization = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? "");
  const token = authorization?.[1] ?? tokenProtocol?.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  if (formats.length === 0) return { token, format: "proto", protocol: undefined };
  const chosen = formats.find((p) => p === SUBPROTOCOL_PROTO || p === SUBPROTOCOL_JSON);
  if (chosen === undefined) return { error: `unsupported subprotocol; offer ${SUBPROTOCOL_PROTO} or ${SUBPROTOCOL_JSON}` };
  return { token, format: chosen === SUBPROTOCOL_JSON ? "json" : "proto", protocol: chosen };
}

/** Browsers send Origin; native clients do not. "*" allows every origin. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  return allowed.includes("*") || allowed.includes(origin);
}

/**
 * True when a browser's Origin names the host the request was sent to: a
 * page this gateway served itself (the web app), whatever the scheme a proxy
 * in front may have ended TLS with. A page elsewhere cannot make its Origin
 * match, and a DNS-rebound one still needs a token of the user's.
 */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined || host === undefined) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}
