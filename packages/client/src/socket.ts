import { TOKEN_SUBPROTOCOL_PREFIX, type WireData } from "@parley/wire";
import { wsPackageSocket } from "./ws-socket.js";

/** What a socket factory is asked to open. */
export interface SocketRequest {
  /** The full endpoint, such as ws://localhost:8080/ws. */
  url: string;
  /** The format subprotocol to offer (parley.v1.proto or parley.v1.json). */
  protocol: string;
  /** The access token: an Authorization header where the platform allows it, else a bearer.<token> subprotocol. */
  token: string;
}

/** How a socket ended. */
export interface SocketCloseInfo {
  /** The WebSocket close code; 1006 when the connection failed or dropped without a close frame. */
  code: number;
  /** The close frame's reason; for a refused upgrade, the response body's text (the gateway's explanation) when the platform sees it. */
  reason: string;
  /** The HTTP status when the server refused the upgrade and the platform can see it (the `ws` package can, browsers cannot). */
  httpStatus?: number;
  /** The underlying error, if any, for logs. */
  error?: unknown;
}

/** The callbacks a socket reports to. `close` is called exactly once, whether or not `open` was. */
export interface SocketListener {
  open(protocol: string): void;
  message(data: WireData): void;
  close(info: SocketCloseInfo): void;
}

/** The little the client needs from a WebSocket. */
export interface ParleySocket {
  send(data: WireData): void;
  /** Starts the closing handshake; the listener's close follows. */
  close(code: number, reason: string): void;
}

/**
 * Opens a socket. Injectable so tests run in memory and apps can bring their
 * own transport (a React Native socket, a proxy agent).
 */
export type SocketFactory = (request: SocketRequest, listener: SocketListener) => ParleySocket | Promise<ParleySocket>;

/**
 * The platform's default: in Node, the `ws` package with an Authorization
 * header (falling back to Node's built-in WebSocket, which also takes
 * headers, if `ws` is not installed); in browsers, the global WebSocket with
 * the token as a subprotocol, since browsers cannot set headers.
 */
export const defaultSocketFactory: SocketFactory = (request, listener) =>
  isNode() ? nodeSocket(request, listener) : globalWebSocket("subprotocol")(request, listener);

async function nodeSocket(request: SocketRequest, listener: SocketListener): Promise<ParleySocket> {
  try {
    return await wsPackageSocket(request, listener);
  } catch (err) {
    if (!isModuleNotFound(err)) throw err;
    return globalWebSocket("header")(request, listener);
  }
}

/** Node's built-in WebSocket (undici) also takes an init object with headers; the DOM's typing of the constructor does not know it. */
type WebSocketWithInit = new (url: string, init: { protocols: string[]; headers: Record<string, string> }) => WebSocket;

/**
 * The standard WebSocket (browsers, Deno, Node 22+). `tokenIn: "header"` uses
 * the WebSocketInit `headers` extension that Node's built-in WebSocket
 * (undici) supports and browsers do not.
 */
export function globalWebSocket(tokenIn: "subprotocol" | "header"): SocketFactory {
  return ({ url, protocol, token }, listener) => {
    const ws =
      tokenIn === "header"
        ? new (WebSocket as unknown as WebSocketWithInit)(url, { protocols: [protocol], headers: { authorization: `Bearer ${token}` } })
        : new WebSocket(url, [protocol, TOKEN_SUBPROTOCOL_PREFIX + token]);
    ws.binaryType = "arraybuffer";
    let closed = false;
    let failure: unknown;
    ws.onopen = () => listener.open(ws.protocol);
    ws.onmessage = (event) => {
      const data: unknown = event.data;
      if (typeof data === "string") listener.message(data);
      else if (data instanceof ArrayBuffer) listener.message(new Uint8Array(data));
    };
    // Browsers hide why a connection failed (a 401 looks like a network error); close follows.
    ws.onerror = (event) => {
      failure = event;
    };
    ws.onclose = (event) => {
      if (closed) return;
      closed = true;
      listener.close({ code: event.code, reason: event.reason, error: failure });
    };
    // The standard close() only accepts 1000 and 3000-4999 from a client.
    const allowed = (code: number) => (code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000);
    // Frames are encoded into plain ArrayBuffers (never shared ones), which the DOM's typing asks for.
    return { send: (data) => ws.send(data as string | Uint8Array<ArrayBuffer>), close: (code, reason) => ws.close(allowed(code), reason) };
  };
}

/** Read through globalThis so the check compiles and runs where `process` does not exist. */
function isNode(): boolean {
  const { process } = globalThis as { process?: { versions?: { node?: string } } };
  return typeof process?.versions?.node === "string";
}

function isModuleNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && err.code === "ERR_MODULE_NOT_FOUND";
}
