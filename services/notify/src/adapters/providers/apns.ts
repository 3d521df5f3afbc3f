import { createHash } from "node:crypto";
import * as http2 from "node:http2";
import { importPKCS8, SignJWT, type CryptoKey } from "jose";
import type { Content, Outcome, Provider, Target } from "../../ports.js";
import { retryAfterMs } from "./retry-after.js";

export interface ApnsOptions {
  /** Defaults to production; the sandbox is https://api.sandbox.push.apple.com. */
  url?: string;
  teamId: string;
  keyId: string;
  /** The ES256 signing key (.p8 file contents) from the Apple developer account. */
  privateKeyPem: string;
  /** The app's bundle id. */
  topic: string;
  /** Opens the HTTP/2 session; tests pass one that speaks h2c to a local stand-in. */
  connect?: (url: string) => http2.ClientHttp2Session;
  /** A request without an answer by then is abandoned and retried. Default 10 s. */
  timeoutMs?: number;
}

/**
 * Apple Push Notification service, provider API over HTTP/2 with token
 * (JWT) authentication. One session is reused for every send, as Apple asks,
 * and reopened when it closes.
 */
export class ApnsProvider implements Provider {
  readonly channel = "apns";
  readonly #options: ApnsOptions;
  readonly #url: string;
  #session: http2.ClientHttp2Session | undefined;
  #key: Promise<CryptoKey> | undefined;
  #jwt: { value: string; issuedAt: number } | undefined;

  constructor(options: ApnsOptions) {
    this.#options = options;
    this.#url = options.url ?? "https://api.push.apple.com";
  }

  async send(target: Target, content: Content): Promise<Outcome> {
    if (target.channel !== "apns") throw new Error(`ApnsProvider cannot send to a ${target.channel} target`);
    const headers: http2.OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": `/3/device/${encodeURIComponent(target.token)}`,
      authorization: `bearer ${await this.#token()}`,
      "apns-topic": this.#options.topic,
      "apns-push-type": "alert",
      "apns-priority": "10",
      "content-type": "application/json",
    };
    if (content.collapseKey !== undefined) headers["apns-collapse-id"] = collapseId(content.collapseKey);
    const reply = await this.#request(headers, JSON.stringify(buildPayload(content)));
    if ("network" in reply) return { kind: "retry", reason: `network: ${reply.network}` };
    if (reply.status === 403) this.#jwt = undefined; // ExpiredProviderToken and friends: sign afresh next time
    return classifyApnsReply(reply);
  }

  async close(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (!session || session.closed || session.destroyed) return;
    await new Promise<void>((resolve) => session.close(resolve));
  }

  /** Apple rejects tokens older than an hour and throttles ones renewed more often than every 20 minutes. */
  async #token(): Promise<string> {
    const now = Date.now();
    if (this.#jwt && now - this.#jwt.issuedAt < TOKEN_LIFETIME_MS) return this.#jwt.value;
    this.#key ??= importPKCS8(this.#options.privateKeyPem, "ES256");
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: this.#options.keyId })
      .setIssuer(this.#options.teamId)
      .setIssuedAt(Math.floor(now / 1000))
      .sign(await this.#key);
    this.#jwt = { value, issuedAt: now };
    return value;
  }

  #sessionNow(): http2.ClientHttp2Session {
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = (this.#options.connect ?? http2.connect)(this.#url);
    // Errors reach the streams too; this listener only keeps them from crashing the process.
    session.on("error", () => {});
    session.on("close", () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.on("goaway", () => {
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }

  #request(headers: http2.OutgoingHttpHeaders, body: string): Promise<ApnsReply | { network: string }> {
    return new Promise((resolve) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.#sessionNow().request(headers);
      } catch (err) {
        resolve({ network: (err as Error).message });
        return;
      }
      let status = 0;
      let replyHeaders: http2.IncomingHttpHeaders = {};
      let failure = "stream closed without an answer";
      const chunks: Buffer[] = [];
      stream.setTimeout(this.#options.timeoutMs ?? 10_000, () => {
        failure = "timeout";
        stream.close(http2.constants.NGHTTP2_CANCEL);
      });
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        replyHeaders = h;
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (err: NodeJS.ErrnoException) => {
        // A failed connect cancels the stream; the session's error (ECONNREFUSED...) is the cause.
        const cause = err.cause as NodeJS.ErrnoException | undefined;
        failure = cause?.code ?? err.code ?? err.message;
      });
      stream.on("close", () => {
        if (status === 0) return resolve({ network: failure });
        resolve({ status, headers: replyHeaders, body: Buffer.concat(chunks).toString("utf8") });
      });
      stream.end(body);
    });
  }
}

const TOKEN_LIFETIME_MS = 50 * 60 * 1000;

interface ApnsReply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

/** Custom data sits beside `aps`, which it cannot overwrite. */
export function buildPayload(content: Content): Record<string, unknown> {
  const aps: Record<string, unknown> = { alert: { title: content.title, body: content.body } };
  if (content.badge !== undefined) aps.badge = content.badge;
  return { ...content.data, aps };
}

/** APNs refuses collapse ids over 64 bytes (BadCollapseId); a longer key is replaced by its hash, which still collapses. */
function collapseId(key: string): string {
  if (Buffer.byteLength(key) <= 64) return key;
  return createHash("sha256").update(key).digest("base64url");
}

const INVALID_TOKEN_REASONS = new Set(["BadDeviceToken", "DeviceTokenNotForTopic"]);

export function classifyApnsReply(reply: ApnsReply): Outcome {
  const { status } = reply;
  if (status === 200) {
    const id = reply.headers["apns-id"];
    return typeof id === "string" ? { kind: "sent", providerId: id } : { kind: "sent" };
  }
  const apple = parseReason(reply.body);
  const reason = `HTTP ${status} ${apple}`.trim();
  if (status === 410 || (status === 400 && INVALID_TOKEN_REASONS.has(apple))) {
    return { kind: "invalid-target", reason };
  }
  // 403: our provider token, not this notification, is at fault; it is re-signed before the next attempt.
  if (status === 403 || status === 429 || status >= 500) {
    const after = retryAfterMs(reply.headers["retry-after"]);
    return after === undefined ? { kind: "retry", reason } : { kind: "retry", reason, retryAfterMs: after };
  }
  return { kind: "failed", reason };
}

function parseReason(body: string): string {
  try {
    const reason = (JSON.parse(body) as { reason?: unknown }).reason;
    return typeof reason === "string" ? reason : "";
  } catch {
    return "";
  }
}
