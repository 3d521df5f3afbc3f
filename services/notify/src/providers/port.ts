/**
 * The provider port: one adapter per third-party channel (FCM, APNs, Web
 * Push, SMTP email, an SMS HTTP API) and a recording adapter for the
 * embedded mode. Workers call `send` once per delivery attempt; the outcome
 * tells them what to do next, so retry policy lives in one place (the
 * worker), not in each adapter.
 *
 * Contract (checked by each adapter's tests against a local stand-in of the
 * third party): `send` never throws for a provider's answer or a network
 * failure; it classifies it. It throws only for a programming error (a
 * target of the wrong channel).
 */
export type Channel = "fcm" | "apns" | "webpush" | "email" | "sms";

/** Where one delivery goes. */
export type Target =
  | { channel: "fcm"; token: string }
  | { channel: "apns"; token: string }
  | { channel: "webpush"; endpoint: string; p256dh: string; auth: string }
  | { channel: "email"; address: string }
  | { channel: "sms"; phone: string };

/** What to show. Push channels use title/body/data/collapseKey/badge; email uses subject (= title) and body; SMS uses body. */
export interface Content {
  title: string;
  body: string;
  /** Small string map delivered to the app (conversation id and the like). */
  data: Record<string, string>;
  /** Same key replaces the earlier notification on the device. */
  collapseKey?: string;
  badge?: number;
}

export type Outcome =
  | { kind: "sent"; providerId?: string }
  /** Try again later (5xx, 429, timeouts, connection refused). */
  | { kind: "retry"; reason: string; retryAfterMs?: number }
  /** The target is gone for good (unregistered or invalid token, 404/410 subscription): remove it, do not retry. */
  | { kind: "invalid-target"; reason: string }
  /** The provider refused this notification for good (bad request, payload too large): do not retry. */
  | { kind: "failed"; reason: string };

export interface Provider {
  readonly channel: Channel;
  send(target: Target, content: Content): Promise<Outcome>;
  close(): Promise<void>;
}
