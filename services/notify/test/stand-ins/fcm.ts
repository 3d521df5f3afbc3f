import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { Credential } from "firebase-admin/app";

/** Sends what firebase-admin believes is https://fcm.googleapis.com as plain HTTP to 127.0.0.1:port (STACK-NOTES section 8). */
export class LocalAgent extends https.Agent {
  readonly #port: number;
  constructor(port: number) {
    super();
    this.#port = port;
  }
  override createConnection(_options: unknown, callback?: (err: Error | null, socket: net.Socket) => void): net.Socket {
    const socket = net.connect(this.#port, "127.0.0.1");
    callback?.(null, socket);
    return socket;
  }
}

export interface FcmReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface FcmSeen {
  method: string | undefined;
  path: string | undefined;
  authorization: string | undefined;
  body: { message: FcmMessage };
}

/** The HTTP v1 message as FCM receives it (snake_case JSON), as far as the tests read it; the options are left out when unset. */
export interface FcmMessage {
  token: string;
  notification: { title: string; body: string };
  data: Record<string, string>;
  android?: { collapse_key?: string; notification?: { notification_count: number } };
  apns?: { payload: { aps: { badge: number } } };
}

/** A stand-in for FCM's HTTP v1 API: answers scripted replies in order, then 200. */
export async function startFakeFcm(): Promise<{ server: http.Server; port: number; seen: FcmSeen[]; replies: FcmReply[] }> {
  const seen: FcmSeen[] = [];
  const replies: FcmReply[] = [];
  let next = 1;
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")));
    req.on("end", () => {
      seen.push({ method: req.method, path: req.url, authorization: req.headers.authorization, body: JSON.parse(raw) });
      const reply = replies.shift() ?? { status: 200, body: { name: `projects/demo-test/messages/${next++}` } };
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, seen, replies };
}

export function fcmError(code: number, status: string, message: string, details: unknown[]): unknown {
  return { error: { code, message, status, details } };
}
export const fcmDetail = (errorCode: string) => ({ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode });

/** A credential that never calls Google: firebase-admin asks it for the bearer token. */
export const credential: Credential = { getAccessToken: async () => ({ access_token: "test-token", expires_in: 3600 }) };
