import type { WebSocket as WsWebSocket } from "ws";
import type { WireData } from "@parley/wire";
import type { ParleySocket, SocketListener, SocketRequest } from "./socket.js";

/**
 * A socket from the `ws` package (Node): the token goes in an Authorization
 * header, and a refused upgrade reports its HTTP status (401, 403, 503), which
 * browsers never see. `ws` is imported on first use, so bundles for browsers
 * never load it.
 */
export async function wsPackageSocket({ url, protocol, token }: SocketRequest, listener: SocketListener): Promise<ParleySocket> {
  const { WebSocket } = await import("ws");
  const ws: WsWebSocket = new WebSocket(url, [protocol], { headers: { authorization: `Bearer ${token}` } });
  let httpStatus: number | undefined;
  let failure: unknown;
  let closed = false;
  ws.on("unexpected-response", (_req, res) => {
    httpStatus = res.statusCode;
    res.resume();
    ws.terminate(); // emits error, then close (1006)
  });
  ws.on("open", () => listener.open(ws.protocol));
  ws.on("message", (data, isBinary) => listener.message(toWireData(data, isBinary)));
  ws.on("error", (err) => {
    failure = err;
  });
  ws.on("close", (code, reason) => {
    if (closed) return;
    closed = true;
    listener.close({ code, reason: reason.toString("utf8"), ...(httpStatus === undefined ? {} : { httpStatus }), error: failure });
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
