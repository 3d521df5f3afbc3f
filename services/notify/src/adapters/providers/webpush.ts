/**
 * Web Push adapter (RFC 8030 push services, VAPID RFC 8292, aes128gcm
 * payload encryption RFC 8291) over the `web-push` library.
 *
 * Each call passes its own `vapidDetails`, so nothing is kept in the
 * library's module-global state and several providers can live in one
 * process. The subscription endpoint is a capability URL: it never appears in
 * an outcome reason.
 */
import { createHash } from "node:crypto";
import type { Agent } from "node:https";
import webpush from "web-push";
import type { RequestOptions } from "web-push";
import type { Content, Outcome, Provider, Target } from "../../ports.js";
import { retryAfterMs } from "./retry-after.js";

export interface WebPushProviderOptions {
  vapid: { subject: string; publicKey: string; privateKey: string };
  /** Passed to `https.request`; tests use it to reach a local fake. The caller owns it. */
  agent?: Agent;
  /** How long the push service keeps an undelivered message. Default one day: a chat notification older than that is noise. */
  ttlSeconds?: number;
  /** Socket inactivity limit for one request. Default 10 s, so a stuck push service costs a retry, not a worker. */
  timeoutMs?: number;
}

type WebPushTarget = Extract<Target, { channel: "webpush" }>;

const DEFAULT_TTL_SECONDS = 86_400;
const DEFAULT_TIMEOUT_MS = 10_000;
/** RFC 8030 section 5.4: a Topic is at most 32 characters of the URL-safe base64 alphabet. */
const TOPIC_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** Errors that mean the request did not get an answer; anything else without a status is a local problem. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

export class WebPushProvider implements Provider {
  readonly channel = "webpush" as const;
  readonly #options: RequestOptions;

  constructor(options: WebPushProviderOptions) {
    this.#options = {
      vapidDetails: { ...options.vapid },
      TTL: options.ttlSeconds ?? DEFAULT_TTL_SECONDS,
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(options.agent ? { agent: options.agent } : {}),
    };
  }

  async send(target: Target, content: Content): Promise<Outcome> {
    if (target.channel !== "webpush") {
      throw new Error(`WebPushProvider cannot send to a ${target.channel} target`);
    }
    if (!hasWellFormedKeys(target)) {
      return { kind: "invalid-target", reason: "malformed subscription keys" };
    }
    const payload = JSON.stringify({
      title: content.title,
      body: content.body,
      data: content.data,
      badge: content.badge,
    });
    const options: RequestOptions = { ...this.#options };
    if (content.collapseKey !== undefined) options.topic = toTopic(content.collapseKey);
    const subscription = { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } };
    try {
      const result = await webpush.sendNotification(subscription, payload, options);
      const location = result.headers.location;
      return location ? { kind: "sent", providerId: location } : { kind: "sent" };
    } catch (error) {
      return classifyError(error);
    }
  }

  /** Nothing to release: every request is independent, and an injected agent belongs to the caller. */
  async close(): Promise<void> {}
}

/**
 * Maps a collapse key to a valid Topic header. Keys that are already valid
 * are sent as they are (readable in the push service's logs); others are
 * hashed, which keeps "same key, same topic".
 */
export function toTopic(collapseKey: string): string {
  if (TOPIC_PATTERN.test(collapseKey)) return collapseKey;
  return createHash("sha256").update(collapseKey).digest("base64url").slice(0, 32);
}

/** The checks `web-push` would throw for, done here so a bad subscription is removed rather than retried. */
function hasWellFormedKeys(target: WebPushTarget): boolean {
  const p256dh = Buffer.from(target.p256dh, "base64url");
  const auth = Buffer.from(target.auth, "base64url");
  return p256dh.length === 65 && p256dh[0] === 0x04 && auth.length >= 16;
}

function classifyError(error: unknown): Outcome {
  if (error instanceof webpush.WebPushError) {
    const status = error.statusCode;
    const reason = `push service answered ${status}`;
    if (status === 404 || status === 410) return { kind: "invalid-target", reason };
    if (status === 429 || status >= 500) {
      const after = retryAfterMs(error.headers["retry-after"]);
      return after === undefined ? { kind: "retry", reason } : { kind: "retry", reason, retryAfterMs: after };
    }
    // 400 (bad request), 413 (payload too large), 401/403 (VAPID rejected): sending it again changes nothing.
    return { kind: "failed", reason };
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if ((typeof code === "string" && NETWORK_CODES.has(code)) || message === "Socket timeout") {
    return { kind: "retry", reason: `network: ${typeof code === "string" ? code : message}` };
  }
  // Invalid VAPID details, an unusable key and the like: configuration, not the push service.
  return { kind: "failed", reason: `web-push: ${message}` };
}
