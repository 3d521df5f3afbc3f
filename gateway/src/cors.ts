import { cors } from "@connectrpc/connect";
import type { NodeServerRequest, NodeServerResponse } from "@parley/runtime";
import { originAllowed } from "./ws/handshake.js";

/**
 * What a browser page may do with the public HTTP API: POST (and GET, for
 * Connect's side-effect-free calls) plus the preflight itself.
 */
const ALLOW_METHODS = [...cors.allowedMethods, "OPTIONS"].join(", ");
/**
 * Connect's, gRPC-web's, and ours: the access token and a caller's request id.
 * Anything else a page sends fails its preflight in the browser.
 */
const ALLOW_HEADERS = [...cors.allowedHeaders, "Authorization", "X-Request-Id"].join(", ");
/** Headers a page may read: Connect's and gRPC-web's, a throttled call's Retry-After, and the request id to quote in a bug report. */
const EXPOSE_HEADERS = [...cors.exposedHeaders, "Retry-After", "X-Request-Id"].join(", ");
/** Two hours, Chromium's cap (Firefox allows a day): a page preflights each method once per cap, not once per call. */
const MAX_AGE_SECONDS = 7_200;

/**
 * CORS for the public HTTP API, for the same origins the WebSocket accepts
 * (GATEWAY_ALLOWED_ORIGINS; `*` allows all). Requests without Origin (native
 * clients, curl) are left as they are. An allowed origin is echoed, never
 * `*`, with `Vary: Origin` so caches keep one answer per origin; a preflight
 * is answered here with 204. A disallowed origin gets no CORS headers (its
 * page cannot read the answer) and its preflight 403. No credentials header:
 * the API takes tokens in Authorization, never cookies.
 *
 * Returns true when it answered the request itself (a preflight).
 */
export function corsFilter(allowedOrigins: readonly string[]): (req: NodeServerRequest, res: NodeServerResponse) => boolean {
  return (req, res) => {
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (!originAllowed(origin, allowedOrigins)) {
      if (!preflight) return false;
      res.writeHead(403, { "content-type": "text/plain", vary: "Origin" });
      res.end("origin not allowed\n");
      return true;
    }
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("vary", "Origin");
    if (!preflight) {
      res.setHeader("access-control-expose-headers", EXPOSE_HEADERS);
      return false;
    }
    res.writeHead(204, {
      "access-control-allow-methods": ALLOW_METHODS,
      "access-control-allow-headers": ALLOW_HEADERS,
      "access-control-max-age": String(MAX_AGE_SECONDS),
    });
    res.end();
    return true;
  };
}
