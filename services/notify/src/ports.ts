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

/** What a notification shows, rendered from its template when it was accepted. */
export interface Rendered {
  title: string;
  body: string;
  /** Small string map for the app (the notification kind and conversation id, say). */
  data: Record<string, string>;
}

/**
 * Where one delivery stands: `pending` waits for a worker (or its next
 * retry), `sent` was accepted by the provider, `dead` failed too often and
 * waits for an operator, `skipped` was never meant to be sent (settings, a
 * rate limit or a newer notification with the same collapse key said no),
 * `rejected` was refused for good by the provider (invalid token, bad
 * content); the last two are kept only for the record.
 */
export type DeliveryState = "pending" | "sent" | "dead" | "skipped" | "rejected";

/** One delivery to store with a notification. */
export interface NewDelivery {
  channel: Channel;
  target: Target;
  /** The device, for push channels. */
  deviceId?: bigint;
  /** Default "pending". A skipped delivery is stored but never leased. */
  state?: "pending" | "skipped";
  /** Why it was skipped; stored as the delivery's last error. */
  reason?: string;
}

/** What `accept` stores: a notification and one delivery per target. */
export interface NewNotification {
  /** The caller's idempotency key. */
  eventId: string;
  userId: bigint;
  kind: string;
  params: Record<string, string>;
  collapseKey: string;
  badge: number;
  /** Identifies the request's content (user, kind, params, channels), so a reused event id with other content can be told apart from a retry. */
  fingerprint: string;
  content: Rendered;
  deliveries: NewDelivery[];
}

/** How many notifications one user may get: at most `max` not rate-limited ones accepted in any `windowMs`. */
export interface RateLimit {
  max: number;
  windowMs: number;
}

export interface StoredNotification {
  id: bigint;
  eventId: string;
  userId: bigint;
  kind: string;
  params: Record<string, string>;
  collapseKey: string;
  badge: number;
  fingerprint: string;
  content: Rendered;
  /** True when the rate limit skipped all its deliveries. */
  rateLimited: boolean;
  createdAt: Date;
}

/**
 * What an erased notification looks like (JobStore.erase): its message text
 * gone from the params (`preview` removed) and from the rendered content (the
 * body replaced; the title holds names, never the text), its fingerprint
 * replaced (a hash of the text could be matched against guesses), and each
 * delivery that was still to be sent skipped with `reason`.
 */
export const ERASED = {
  body: "Message deleted",
  reason: "erased",
  fingerprint: "erased",
  /** The params key holding the message text. */
  textParam: "preview",
  /**
   * How long an erased event id not seen yet is remembered (7 days): far
   * longer than a caller's hand-off may still arrive (chat gives up on one
   * within seconds), short enough that the table stays small.
   */
  unseenKeptMs: 7 * 24 * 3_600_000,
} as const;

/** A client-side event a device reported for a notification. */
export type TrackedEvent = "delivered" | "opened";

export interface DeliveryJob {
  id: bigint;
  notificationId: bigint;
  channel: Channel;
  target: Target;
  deviceId?: bigint;
  state: DeliveryState;
  /** Attempts recorded by markSent / markFailed (a lease alone is not an attempt). */
  attempts: number;
  /** The last failure, or the skip reason; "" when none. */
  lastError: string;
  /** When the job is next due, while pending. */
  nextAttemptAt: Date;
  /** Set while a worker holds the job; the job is leased again once it passes. */
  leaseUntil?: Date;
}

/**
 * The durable notification queue: notifications and one delivery job per
 * target, worked by any number of workers.
 *
 * Contract (checked on every adapter by test/job-store-contract.ts):
 * - Durable and idempotent: once `accept` returns, the notification and all
 *   its deliveries are stored (one transaction, all or nothing). A repeated
 *   eventId, even concurrently, stores nothing and returns the first one.
 * - At-least-once delivery: a leased job that is never marked (crashed
 *   worker) is leased again after its lease expires, so a provider may see
 *   it twice; it is never lost. Concurrent `lease` calls never hand out the
 *   same job while its lease runs.
 * - No ordering between jobs beyond "due first": lease picks the earliest
 *   next_attempt_at, then the oldest job.
 * - Rate limit: when `accept` gets a RateLimit and the user already has
 *   `max` not rate-limited notifications accepted within the window before
 *   `now`, the new one is stored with rateLimited=true and every delivery
 *   skipped. Accepts for one user are serialised, so the limit holds under
 *   concurrency.
 * - Collapse: accepting a notification with a non-empty collapse key skips
 *   the user's older pending, unleased deliveries with the same key on the
 *   same channel and device (the device would replace them anyway); a
 *   leased one is left to its worker.
 * - markSent / markFailed / markRejected act only on pending jobs (a late mark from a
 *   worker whose job was dead-lettered or already sent is a no-op); they
 *   count an attempt and clear the lease.
 * - Erase (see ERASED): `erase` rewrites the named notifications erased and
 *   skips their pending (leased or not: the worker's late mark is then a
 *   no-op) and dead deliveries with reason "erased". An event id with no
 *   notification yet is remembered for ERASED.unseenKeptMs: an `accept` of it
 *   in that time stores the notification erased, every delivery skipped, and
 *   collapses nothing. Erase and accept of one event id are serialised, so
 *   neither order lets the text through. Idempotent.
 */
export interface JobStore {
  /** Stores the notification and its deliveries in one transaction; idempotent on eventId: a repeat returns the first notification with duplicate=true and writes nothing. */
  accept(n: NewNotification, now: Date, rateLimit?: RateLimit): Promise<{ notification: StoredNotification; duplicate: boolean }>;
  /** Leases up to `limit` pending deliveries whose next_attempt_at <= now and whose lease is free or expired, for `leaseMs` (so a crashed worker's jobs come back after the lease); concurrent callers never get the same job (Postgres: FOR UPDATE SKIP LOCKED; SQLite: calls run one at a time). Optional channel filter so a down provider does not stall others. */
  lease(now: Date, limit: number, leaseMs: number, channel?: Channel): Promise<{ job: DeliveryJob; notification: StoredNotification }[]>;
  markSent(jobId: bigint, now: Date): Promise<void>;
  /** Records a failed attempt: back to pending at nextAttemptAt, or dead when `dead` is true. Clears the lease. */
  markFailed(jobId: bigint, error: string, nextAttemptAt: Date, dead: boolean): Promise<void>;
  /** Records that the provider refused the job for good (state rejected). Clears the lease. */
  markRejected(jobId: bigint, error: string): Promise<void>;
  /** Dead jobs, oldest first. */
  listDead(limit: number): Promise<DeliveryJob[]>;
  /** Puts dead jobs (all, or the listed ones) back to pending now with attempts reset; returns how many. */
  retryDead(ids: bigint[] | undefined, now: Date): Promise<number>;
  /** A notification and all its deliveries (in id order), or undefined when unknown. */
  get(notificationId: bigint): Promise<{ notification: StoredNotification; deliveries: DeliveryJob[] } | undefined>;
  /** The user's newest notifications (by acceptance, newest first) with their deliveries. */
  listForUser(userId: bigint, limit: number): Promise<{ notification: StoredNotification; deliveries: DeliveryJob[] }[]>;
  /** Records a device's event for a notification (a repeat keeps the first time); false when the notification is unknown. */
  track(notificationId: bigint, deviceId: bigint, event: TrackedEvent, at: Date): Promise<boolean>;
  /** Erases the notifications with these event ids (see the contract's Erase); returns how many of the ids had one, erased now or before. */
  erase(eventIds: readonly string[], now: Date): Promise<number>;
  /** How many pending jobs per channel (queue-depth monitoring); channels with none are absent. */
  depth(): Promise<Record<string, number>>;
}

/** What notify needs to know about a user to reach them. */
export interface UserTargets {
  displayName: string;
  pushEnabled: boolean;
  emailEnabled: boolean;
  smsEnabled: boolean;
  showPreviews: boolean;
  /** Characters of a message a preview shows; 0 means the default. */
  previewLength: number;
  mutedConversationIds: ReadonlySet<bigint>;
  /** Whether a mention stays quiet in a muted conversation too (by default it gets through). */
  muteMentions: boolean;
  /** "" when none. */
  email: string;
  /** "" when none. */
  phone: string;
  /** Logged-in devices with a push token. */
  devices: readonly { deviceId: bigint; target: Extract<Target, { channel: "fcm" | "apns" | "webpush" }> }[];
}

/**
 * Users' devices, contact points and settings (the account service in the
 * mesh). May answer from a cache: a change reaches it within the cache's
 * lifetime, usually at once.
 */
export interface TargetDirectory {
  /** Throws NotFound for an unknown user. */
  targets(userId: bigint): Promise<UserTargets>;
  /** Removes a token a provider called invalid, if it is still the device's current one. */
  removePushToken(deviceId: bigint, token: string): Promise<void>;
}
