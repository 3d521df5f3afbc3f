/**
 * SMS adapter for a generic HTTP SMS API, so any gateway (or a small shim in
 * front of one) can be plugged in without code here.
 *
 * Assumed provider contract:
 *   POST <url>
 *   Authorization: Bearer <token>
 *   Content-Type: application/json
 *   { "to": "<E.164 phone number>", "body": "<text, at most 1600 characters>" }
 *
 *   200/201/202 -> accepted; an optional JSON `{ "id": string | number }` names the message.
 *   404/410/422 with a JSON body whose `code` (or `error`) is "invalid_number"
 *               -> the number is invalid or unreachable for good.
 *   429, 5xx    -> temporary; an optional Retry-After header (seconds or HTTP date).
 *   other 4xx   -> this request is refused for good (bad body, bad credentials).
 * A 404/410/422 without the "invalid_number" code is treated as "other 4xx":
 * it more likely means a wrong URL or a malformed request than a dead number.
 *
 * Neither the phone number, the text nor the token appears in an outcome reason.
 */
import { cutToCodePoints } from "@parley/runtime";
import type { Content, Outcome, Provider, Target } from "../../ports.js";
import { retryAfterMs } from "./retry-after.js";

export interface SmsHttpProviderOptions {
  /** The gateway's send endpoint. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
  /** Whole-request limit (connect, send, answer). Default 10 s. */
  timeoutMs?: number;
}

/** 1600 characters is the usual gateway cap for a concatenated message (10 segments of GSM-7). */
export const MAX_SMS_CHARS = 1600;
const DEFAULT_TIMEOUT_MS = 10_000;
const INVALID_NUMBER = "invalid_number";

export class SmsHttpProvider implements Provider {
  readonly channel = "sms" as const;
  readonly #url: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(options: SmsHttpProviderOptions) {
    this.#url = new URL(options.url).href; // fail at boot, not at the first send
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async send(target: Target, content: Content): Promise<Outcome> {
    if (target.channel !== "sms") {
      throw new Error(`SmsHttpProvider cannot send to a ${target.channel} target`);
    }
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: "POST",
        headers: { authorization: `Bearer ${this.#token}`, "content-type": "application/json" },
        body: JSON.stringify({ to: target.phone, body: smsText(content) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      // fetch rejects only when no answer arrived: refused, reset, DNS, or our timeout.
      const name = error instanceof Error ? error.name : "Error";
      return { kind: "retry", reason: name === "TimeoutError" ? "sms gateway timed out" : "sms gateway unreachable" };
    }
    return classifyResponse(response.status, response.headers, await readJson(response));
  }

  /** Nothing to release: fetch's connection pool is process-wide. */
  async close(): Promise<void> {}
}

/** "Title: body", cut to MAX_SMS_CHARS code points so a surrogate pair is never split. */
export function smsText(content: Content): string {
  const text = content.title ? `${content.title}: ${content.body}` : content.body;
  return cutToCodePoints(text, MAX_SMS_CHARS);
}

function classifyResponse(status: number, headers: Headers, json: Record<string, unknown> | undefined): Outcome {
  const reason = `sms gateway answered ${status}`;
  if (status === 200 || status === 201 || status === 202) {
    const id = json?.id;
    return typeof id === "string" || typeof id === "number" ? { kind: "sent", providerId: String(id) } : { kind: "sent" };
  }
  if ((status === 404 || status === 410 || status === 422) && errorCode(json) === INVALID_NUMBER) {
    return { kind: "invalid-target", reason: `${reason} (${INVALID_NUMBER})` };
  }
  if (status === 429 || status >= 500) {
    const after = retryAfterMs(headers.get("retry-after"));
    return after === undefined ? { kind: "retry", reason } : { kind: "retry", reason, retryAfterMs: after };
  }
  return { kind: "failed", reason };
}

function errorCode(json: Record<string, unknown> | undefined): unknown {
  return json?.code ?? json?.error;
}

/** The body as a JSON object, or undefined when it is empty, not JSON, or cut off. */
async function readJson(response: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await response.text());
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
