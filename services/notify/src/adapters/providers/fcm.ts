import { randomUUID } from "node:crypto";
import type { Agent } from "node:https";
import { cert, deleteApp, initializeApp, type App, type Credential, type ServiceAccount } from "firebase-admin/app";
import { getMessaging, type Message, type Messaging } from "firebase-admin/messaging";
import type { Content, Outcome, Provider, Target } from "../../ports.js";
import { retryAfterMs } from "./retry-after.js";

export interface FcmOptions {
  projectId: string;
  credential: Credential;
  /** Passed to firebase-admin's `https.request`; tests route it to a local stand-in (STACK-NOTES section 8). */
  httpAgent?: Agent;
  /** Defaults to a unique name, so several providers can live in one process. */
  appName?: string;
}

/**
 * Firebase Cloud Messaging through firebase-admin (HTTP v1 `messages:send`).
 *
 * firebase-admin retries a 503 by itself (up to 4 times, 1 to 8 s apart,
 * sooner if Retry-After says so, but not past 60 s); everything else reaches
 * us at once and is classified here.
 */
export class FcmProvider implements Provider {
  readonly channel = "fcm";
  readonly #app: App;
  readonly #messaging: Messaging;

  constructor(options: FcmOptions) {
    this.#app = initializeApp(
      {
        projectId: options.projectId,
        credential: options.credential,
        ...(options.httpAgent ? { httpAgent: options.httpAgent } : {}),
      },
      options.appName ?? `parley-notify-fcm-${randomUUID()}`,
    );
    this.#messaging = getMessaging(this.#app);
    // send() already uses HTTP/1.1; this keeps sendEach() on httpAgent too, should we batch later.
    this.#messaging.enableLegacyHttpTransport();
  }

  async send(target: Target, content: Content): Promise<Outcome> {
    if (target.channel !== "fcm") throw new Error(`FcmProvider cannot send to a ${target.channel} target`);
    try {
      const name = await this.#messaging.send(buildMessage(target.token, content));
      return { kind: "sent", providerId: name };
    } catch (err) {
      return classifyFcmError(err);
    }
  }

  async close(): Promise<void> {
    await deleteApp(this.#app);
  }
}

/**
 * Production wiring: a service account key file's JSON text (from a secret).
 * `cert()` validates it (project_id, private_key, client_email) and throws at
 * boot if any is missing; it fetches OAuth tokens from Google as needed.
 */
export function fcmFromServiceAccount(json: string): FcmProvider {
  let account: ServiceAccount & { project_id?: unknown };
  try {
    account = JSON.parse(json) as typeof account;
  } catch {
    // JSON.parse's message quotes the text around the error: here, the private key.
    throw new Error("is not valid JSON (the value is secret and not shown)");
  }
  const credential = cert(account);
  if (typeof account.project_id !== "string") throw new Error("FCM service account JSON has no project_id");
  return new FcmProvider({ projectId: account.project_id, credential });
}

export function buildMessage(token: string, content: Content): Message {
  const message: Message = {
    token,
    notification: { title: content.title, body: content.body },
    data: content.data,
  };
  const { collapseKey, badge } = content;
  if (collapseKey !== undefined || badge !== undefined) {
    message.android = {
      ...(collapseKey !== undefined ? { collapseKey } : {}),
      ...(badge !== undefined ? { notification: { notificationCount: badge } } : {}),
    };
  }
  if (badge !== undefined) message.apns = { payload: { aps: { badge } } };
  return message;
}

const INVALID_TARGET = new Set(["messaging/registration-token-not-registered", "messaging/invalid-registration-token"]);
const RETRY = new Set([
  "messaging/message-rate-exceeded", // QUOTA_EXCEEDED (429)
  "messaging/device-message-rate-exceeded",
  "messaging/server-unavailable", // UNAVAILABLE (503)
  "messaging/internal-error", // INTERNAL (500)
  "app/network-error",
  "app/network-timeout",
  // Our own credentials, not this notification, are at fault: keep it until the configuration is fixed.
  "app/invalid-credential",
  "messaging/authentication-error",
  "messaging/third-party-auth-error",
]);

interface FirebaseLikeError {
  code?: unknown;
  message?: unknown;
  httpResponse?: { status?: number; headers?: Record<string, unknown>; data?: unknown };
}

export function classifyFcmError(err: unknown): Outcome {
  const e = (typeof err === "object" && err !== null ? err : {}) as FirebaseLikeError;
  const code = typeof e.code === "string" ? e.code : "unknown";
  const reason = e.httpResponse?.status ? `${code} (HTTP ${e.httpResponse.status})` : code;
  if (INVALID_TARGET.has(code) || (code === "messaging/invalid-argument" && isAboutToken(e))) {
    return { kind: "invalid-target", reason };
  }
  if (RETRY.has(code)) {
    const after = retryAfterMs(e.httpResponse?.headers?.["retry-after"]);
    return after === undefined ? { kind: "retry", reason } : { kind: "retry", reason, retryAfterMs: after };
  }
  return { kind: "failed", reason };
}

/**
 * FCM answers a malformed token with plain INVALID_ARGUMENT ("The registration
 * token is not a valid FCM registration token"); other INVALID_ARGUMENTs name
 * the offending field in a google.rpc.BadRequest detail instead.
 */
function isAboutToken(e: FirebaseLikeError): boolean {
  if (typeof e.message === "string" && /registration token/i.test(e.message)) return true;
  const details = (e.httpResponse?.data as { error?: { details?: unknown } } | undefined)?.error?.details;
  if (!Array.isArray(details)) return false;
  return details.some((d: { fieldViolations?: { field?: unknown }[] }) => d?.fieldViolations?.some((v) => v?.field === "message.token"));
}
