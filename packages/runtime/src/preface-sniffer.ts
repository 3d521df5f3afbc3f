import type net from "node:net";

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n");

export type Protocol = "h1" | "h2";

/**
 * Reads a cleartext connection's first bytes to tell HTTP/2 (its preface)
 * from HTTP/1.1, then puts them back and hands the socket on, paused with
 * the bytes unread: `route` must resume it when its new owner reads by
 * 'data' (HTTP/1.1), or leave it for one that reads the buffer itself
 * (an http2 session). A connection that says nothing for
 * `firstBytesTimeoutMs` is destroyed.
 *
 * Once the socket is handed on, nothing of the sniffing stays attached: its
 * listeners, its timer and the bytes it read (the request line and headers,
 * with the access token of a WebSocket upgrade) would otherwise live as long
 * as the connection, which for a WebSocket is hours; at thousands of idle
 * connections that was about 1 KiB each.
 */
export function sniffPreface(socket: net.Socket, firstBytesTimeoutMs: number, route: (protocol: Protocol) => void): void {
  let seen: Buffer | undefined;
  const silent = setTimeout(() => socket.destroy(), firstBytesTimeoutMs);
  const stop = () => {
    clearTimeout(silent);
    socket.off("data", onData);
    socket.off("close", stop);
  };
  const onData = (chunk: Buffer) => {
    seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
    const compared = Math.min(seen.length, HTTP2_PREFACE.length);
    const isHttp2 = seen.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
    if (isHttp2 && seen.length < HTTP2_PREFACE.length) return; // need more bytes to decide
    stop();
    socket.pause();
    socket.unshift(seen);
    seen = undefined;
    route(isHttp2 ? "h2" : "h1");
  };
  socket.on("data", onData);
  socket.on("close", stop);
  // Stays for good: between an upgrade request and its acceptance (the token
  // checked) no one else listens for errors, and an unhandled one would end
  // the process. One function for every socket, so it holds nothing per socket.
  socket.on("error", destroyOnError);
}

function destroyOnError(this: net.Socket): void {
  this.destroy();
}
