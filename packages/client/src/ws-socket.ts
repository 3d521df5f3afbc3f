import type { WebSocket as WsWebSocket } from "ws";
import type { WireData } from "@parley/wire";
import type { ParleySocket, SocketFactory, SocketListener, SocketRequest } from "./socket.js";

/** How much of a refused upgrade's body is kept as its reason. */
const MAX_REFUSAL_BYTES = 1_024;
/** How long a refused upgrade's body may take to arrive. */
const REFUSAL_WAIT_MS = 1_000;

/**
 * A socket from the `ws` package (Node): the token goes in an Authorization
 * header, and a refused upgrade reports its HTTP status (401, 403, 503) and
 * the body's text as the reason, which browsers never see. `ws` is imported
 * on first use, and the package's `browser` field maps it to nothing, so
 * bundles for browsers never hold it.
 */
export function wsPackageSocket(request: SocketRequest, listener: SocketListener): Promise<ParleySocket> {
  return openWsSocket(request, listener, {});
}

/**
 * The `ws` package's socket sending an Origin header, as a page would: for a
 * Node process that speaks for one (a desktop shell, a test of the allowlist).
 */
export function wsPackageSocketFrom(origin: string): SocketFactory {
  return (request, listener) => openWsSocket(request, listener, { origin });
}

async function openWsSocket({ url, protocol, token }: SocketRequest, listener: SocketListener, extra: { origin?: string }): Promise<ParleySocket> {
  // Partial: in a browser bundle the `browser` field makes "ws" an empty module.
  const { WebSocket } = (await import("ws")) as Partial<typeof import("ws")>;
  if (WebSocket === undefined) throw new Error("the ws package runs in Node only: in browsers use globalWebSocket");
  const ws: WsWebSocket = new WebSocket(url, [protocol], { headers: { authorization: `Bearer ${token}` }, ...extra });
  let httpStatus: number | undefined;
  let failure: unknown;
  let closed = false;
  let refusal = "";
  ws.on("unexpected-response", (_req, res) => {
    httpStatus = res.statusCode;
    // The gateway says why in a line of text: kept (the first KiB) as the close reason.
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      if (size < MAX_REFUSAL_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      refusal = Buffer.concat(chunks).subarray(0, MAX_REFUSAL_BYTES).toString("utf8").trim();
      ws.terminate(); // emits error, then close (1006)
    };
    // A body that never ends (a proxy's) does not hold the refusal up.
    const timer = setTimeout(finish, REFUSAL_WAIT_MS);
    res.once("end", finish);
    res.once("error", finish);
  });
  ws.on("open", () => listener.open(ws.protocol));
  ws.on("message", (data, isBinary) => listener.message(toWireData(data, isBinary)));
  ws.on("error", (err) => {
    failure = err;
  });
  ws.on("close", (code, reason) => {
    if (closed) return;
    closed = true;
    const text = httpStatus === undefined ? reason.toString("utf8") : refusal;
    listener.close({ code, reason: text, ...(httpStatus === undefined ? {} : { httpStatus }), error: failure });
  });
  return {
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
  };
}

function toWireData(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): WireData {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data;
  return isBinary ? bytes : bytes.toString("utf8");
}
