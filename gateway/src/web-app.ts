import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import type { Logger, NodeServerRequest, NodeServerResponse } from "@parley/runtime";

/** Where the web app lives on the public port; `/` redirects here. */
export const WEB_APP_PATH = "/app/";

/** The only kinds of file served, each with its type; anything else in the folder is 404. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

/** Larger files are not the app's: refused rather than read into memory. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Serves the web chat app (apps/web's bundle) from one folder under
 * /app/, before the API's routes. Only GET and HEAD of regular files inside
 * the folder, by a name of known type: no `..`, no dot-files, no encoded
 * slashes or backslashes, and the resolved path must stay inside the folder
 * (symbolic links included: the file's real path is not followed out, since
 * only names are resolved and the folder is the app's own build output).
 *
 * Every answer is `no-cache` with an ETag (the bundle's names are fixed, so a
 * browser revalidates and gets 304 until a rebuild), a strict
 * Content-Security-Policy (scripts and styles from this origin only, no
 * inline code; network only to this origin's HTTP API and WebSocket) and
 * `nosniff`. When the folder holds no index.html the app answers 503 saying
 * so, and the gateway logs it once at start, rather than 404 in silence.
 *
 * Returns true when it answered the request; other paths go on to the API.
 */
export function webAppFilter(dir: string, logger: Logger): (req: NodeServerRequest, res: NodeServerResponse) => boolean {
  const root = resolve(dir);
  if (!existsSync(resolve(root, "index.html"))) {
    logger.warn({ dir: root }, "the web app is on (GATEWAY_WEB_APP) but not built: no index.html there; run `npm run build`, or set GATEWAY_WEB_APP=off");
  }
  return (req, res) => {
    const pathname = (req.url ?? "/").split("?")[0] ?? "/";
    if (pathname === "/" || pathname === WEB_APP_PATH.slice(0, -1)) {
      if (req.method !== "GET" && req.method !== "HEAD") return false;
      res.writeHead(302, { location: WEB_APP_PATH, "cache-control": "no-cache" });
      res.end();
      return true;
    }
    if (!pathname.startsWith(WEB_APP_PATH)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      answer(res, 405, "only GET and HEAD\n", { allow: "GET, HEAD" });
      return true;
    }
    const name = safeName(pathname.slice(WEB_APP_PATH.length) || "index.html");
    if (name === undefined) {
      answer(res, 404, "not found\n");
      return true;
    }
    void serveFile(root, name, req, res).catch((err: unknown) => {
      logger.error({ err }, "web app file could not be served");
      if (!res.headersSent) answer(res, 500, "internal error\n");
      else res.destroy();
    });
    return true;
  };
}

/** The file's name relative to the folder, or undefined for anything that could leave it or is not an app file. */
export function safeName(raw: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const segments = decoded.split("/");
  if (segments.some((s) => s === "" || s.startsWith("."))) return undefined;
  if (CONTENT_TYPES[extname(decoded).toLowerCase()] === undefined) return undefined;
  return segments.join("/");
}

async function serveFile(root: string, name: string, req: NodeServerRequest, res: NodeServerResponse): Promise<void> {
  const path = resolve(root, name);
  if (!path.startsWith(root + sep)) return answer(res, 404, "not found\n");
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || !info.isFile() || info.size > MAX_FILE_BYTES) {
    if (name === "index.html") return answer(res, 503, "the web app is not built: run `npm run build` (or `npm start`), then reload\n");
    return answer(res, 404, "not found\n");
  }
  const etag = `"${createHash("sha1").update(`${info.size}:${info.mtimeMs}:${name}`).digest("base64url")}"`;
  const headers = {
    ...securityHeaders(req.headers.host),
    "content-type": CONTENT_TYPES[extname(name).toLowerCase()]!,
    "cache-control": "no-cache",
    etag,
  };
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const body = await readFile(path);
  res.writeHead(200, { ...headers, "content-length": String(body.length) });
  if (req.method === "HEAD") res.end();
  else res.end(body);
}

/**
 * The page may load its own script and style and talk to its own origin only:
 * the API over fetch and the WebSocket (named explicitly, as `'self'` does
 * not cover ws: in every browser). No inline script or style, no frames.
 */
export function securityHeaders(host: string | undefined): Record<string, string> {
  const sockets = host !== undefined && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? ` ws://${host} wss://${host}` : "";
  return {
    "content-security-policy": [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self'${sockets}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
  };
}

function answer(res: NodeServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff", "cache-control": "no-cache", ...extra });
  res.end(text);
}

/** Runs the filters in order until one answers: CORS first (it only adds headers or answers preflights), then the web app. */
export function composeFilters(
  ...filters: ((req: NodeServerRequest, res: NodeServerResponse) => boolean)[]
): (req: NodeServerRequest, res: NodeServerResponse) => boolean {
  return (req, res) => filters.some((filter) => filter(req, res));
}
