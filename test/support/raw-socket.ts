import { create } from "@bufbuild/protobuf";
import { ClientFrameSchema, type ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { decodeServerFrame, encodeClientFrame, type WireFormat } from "@parley/wire";
import WebSocket from "ws";

/**
 * A bare WebSocket speaking the protocol frame by frame, for tests of the
 * gateway's edge cases (the SDK would hide them).
 */
export class RawSocket {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    readonly format: WireFormat,
  ) {
    ws.on("message", (data, isBinary) => {
      this.frames.push(decodeServerFrame(isBinary ? new Uint8Array(data as Buffer) : (data as Buffer).toString(), format));
      this.wake();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on("error", () => {});
  }

  /** `ca`: the CA bundle that verifies a wss:// gateway's certificate. */
  static open(
    url: string,
    token: string | undefined,
    options: { format?: WireFormat; origin?: string; viaProtocol?: boolean; ca?: Buffer } = {},
  ): Promise<RawSocket> {
    const format = options.format ?? "proto";
    const protocols = [format === "proto" ? "parley.v1.proto" : "parley.v1.json"];
    const headers: Record<string, string> = {};
    if (token !== undefined && options.viaProtocol) protocols.push(`bearer.${token}`);
    else if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (options.origin) headers.origin = options.origin;
    const ws = new WebSocket(url, protocols, { headers, ...(options.ca ? { ca: options.ca } : {}) });
    const socket = new RawSocket(ws, format);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(socket));
      ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
      ws.once("error", reject);
    });
  }

  send(frame: Parameters<typeof create<typeof ClientFrameSchema>>[1]): void {
    this.ws.send(encodeClientFrame(create(ClientFrameSchema, frame), this.format));
  }

  /** Waits for a frame matching `match` (searching frames already received too). */
  async next(match: (f: ServerFrame) => boolean, timeoutMs = 5_000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0]!;
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) before the frame arrived`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a frame");
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, left);
      });
    }
  }

  async reply(id: bigint): Promise<ServerFrame> {
    return this.next((f) => f.id === id);
  }

  async closedWith(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("socket still open");
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
