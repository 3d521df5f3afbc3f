import { createHash } from "node:crypto";
import { EventIdConflict, InvalidInput, NotFound } from "../errors.js";
import type { Channel, DeliveryJob, JobStore, NewDelivery, RateLimit, StoredNotification, TargetDirectory, TrackedEvent, UserTargets } from "../ports.js";
import { ERASED } from "../ports.js";
import { checkParams, DEFAULT_PREVIEW_LENGTH, render, type TemplateName } from "./templates.js";

/** The channels a caller asks for; "push" fans out to every device with a token. */
export type RequestedChannel = "push" | "email" | "sms";

export interface SendInput {
  eventId: string;
  userId: bigint;
  kind: TemplateName;
  params: Record<string, string>;
  /** Empty means push only. */
  channels: RequestedChannel[];
  collapseKey: string;
  badge: number;
}

export interface SendResult {
  notification: StoredNotification;
  duplicate: boolean;
  queued: number;
  skipped: number;
}

export interface NotificationsOptions {
  store: JobStore;
  directory: TargetDirectory;
  /** Channels that have a provider; deliveries on others are stored as skipped. */
  available: ReadonlySet<Channel>;
  /** Undefined: no limit. */
  rateLimit: RateLimit | undefined;
  /** Called after a notification with queued deliveries is stored, so local workers start at once. */
  onQueued: (channels: ReadonlySet<Channel>) => void;
  /** For metrics. */
  onAccepted?: (kind: string, result: "accepted" | "duplicate" | "rate_limited") => void;
  now?: () => Date;
}

export type NotificationWithDeliveries = { notification: StoredNotification; deliveries: DeliveryJob[] };

const EVENT_ID_MAX = 128;
const COLLAPSE_KEY_MAX = 64;
/** Most event ids one Erase names (a deleted message's recipients are at most a group's 100 members). */
export const ERASE_IDS_MAX = 500;

/**
 * The notification pipeline up to the durable queue: validate, look up the
 * user, decide each target against their settings, render the template and
 * store the notification with one delivery per target in one transaction.
 * Once `send` returns, workers own the deliveries; nothing here sends.
 */
export class Notifications {
  readonly #o: NotificationsOptions;
  readonly #now: () => Date;

  constructor(options: NotificationsOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  async send(input: SendInput): Promise<SendResult> {
    const channels = checkRequest(input);
    const fingerprint = fingerprintOf(input, channels);
    const user = await this.#o.directory.targets(input.userId);
    const deliveries = this.#plan(user, channels, input.params);
    const content = render(input.kind, input.params, {
      showPreviews: user.showPreviews,
      previewLength: user.previewLength === 0 ? DEFAULT_PREVIEW_LENGTH : user.previewLength,
    });
    const { notification, duplicate } = await this.#o.store.accept(
      {
        eventId: input.eventId,
        userId: input.userId,
        kind: input.kind,
        params: input.params,
        collapseKey: input.collapseKey,
        badge: input.badge,
        fingerprint,
        content,
        deliveries,
      },
      this.#now(),
      this.#o.rateLimit,
    );
    // An erased notification no longer has the fingerprint of its content: any repeat of its event id is a repeat.
    if (duplicate && notification.fingerprint !== fingerprint && notification.fingerprint !== ERASED.fingerprint) throw new EventIdConflict(input.eventId);
    this.#o.onAccepted?.(input.kind, duplicate ? "duplicate" : notification.rateLimited ? "rate_limited" : "accepted");
    // Erased on arrival (its event id was erased first): the store skipped every delivery.
    const erased = !duplicate && notification.fingerprint === ERASED.fingerprint;
    const stored = duplicate || erased ? ((await this.#o.store.get(notification.id))?.deliveries ?? []) : undefined;
    const queued = stored
      ? stored.filter((d) => d.state !== "skipped").length
      : notification.rateLimited
        ? 0
        : deliveries.filter((d) => d.state !== "skipped").length;
    const total = stored ? stored.length : deliveries.length;
    if (!duplicate && !erased && queued > 0) this.#o.onQueued(new Set(deliveries.filter((d) => d.state !== "skipped").map((d) => d.channel)));
    return { notification, duplicate, queued, skipped: total - queued };
  }

  async get(notificationId: bigint): Promise<NotificationWithDeliveries> {
    const found = await this.#o.store.get(notificationId);
    if (found === undefined) throw new NotFound(`notification ${notificationId} does not exist`);
    return found;
  }

  listForUser(userId: bigint, limit: number): Promise<NotificationWithDeliveries[]> {
    if (userId === 0n) throw new InvalidInput("user_id", "is required");
    return this.#o.store.listForUser(userId, limit);
  }

  listDead(limit: number): Promise<DeliveryJob[]> {
    return this.#o.store.listDead(limit);
  }

  async retryDead(ids: bigint[] | undefined): Promise<number> {
    const retried = await this.#o.store.retryDead(ids, this.#now());
    if (retried > 0) this.#o.onQueued(new Set(this.#o.available));
    return retried;
  }

  /**
   * Erases the message text of the notifications with these event ids and
   * stops their unsent deliveries; an id not seen yet is remembered, so its
   * Send, if it still comes, is stored erased (JobStore.erase). Returns how
   * many ids had a notification.
   */
  erase(eventIds: readonly string[]): Promise<number> {
    if (eventIds.length === 0 || eventIds.length > ERASE_IDS_MAX) throw new InvalidInput("event_ids", `must list 1 to ${ERASE_IDS_MAX} event ids`);
    for (const [i, eventId] of eventIds.entries()) {
      if (eventId === "" || eventId.length > EVENT_ID_MAX) throw new InvalidInput(`event_ids[${i}]`, `must be 1 to ${EVENT_ID_MAX} characters`);
    }
    return this.#o.store.erase(eventIds, this.#now());
  }

  async track(notificationId: bigint, deviceId: bigint, event: TrackedEvent): Promise<void> {
    if (!(await this.#o.store.track(notificationId, deviceId, event, this.#now()))) throw new NotFound(`notification ${notificationId} does not exist`);
  }

  /** One delivery per target; the ones the user's settings or a missing provider rule out are stored as skipped, with why. */
  #plan(user: UserTargets, channels: ReadonlySet<RequestedChannel>, params: Readonly<Record<string, string>>): NewDelivery[] {
    // A mention gets through a muted conversation (as in most chat apps) unless the user keeps mentions quiet too; nothing else does.
    const muted = isMuted(user, params.conversation_id) && (params.mentioned !== "true" || user.muteMentions);
    const decide = (channel: Channel, enabled: boolean, off: string): Pick<NewDelivery, "state" | "reason"> => {
      if (muted) return { state: "skipped", reason: "conversation muted" };
      if (!enabled) return { state: "skipped", reason: off };
      if (!this.#o.available.has(channel)) return { state: "skipped", reason: `no ${channel} provider configured` };
      return {};
    };
    const out: NewDelivery[] = [];
    if (channels.has("push")) {
      for (const device of user.devices) {
        out.push({
          channel: device.target.channel,
          target: device.target,
          deviceId: device.deviceId,
          ...decide(device.target.channel, user.pushEnabled, "push turned off by the user"),
        });
      }
    }
    if (channels.has("email")) {
      out.push({
        channel: "email",
        target: { channel: "email", address: user.email },
        ...decide("email", user.emailEnabled && user.email !== "", "email turned off by the user"),
      });
    }
    if (channels.has("sms")) {
      out.push({
        channel: "sms",
        target: { channel: "sms", phone: user.phone },
        ...decide("sms", user.smsEnabled && user.phone !== "", "sms turned off by the user"),
      });
    }
    return out;
  }
}

function checkRequest(input: SendInput): ReadonlySet<RequestedChannel> {
  if (input.eventId === "" || input.eventId.length > EVENT_ID_MAX) throw new InvalidInput("event_id", `must be 1 to ${EVENT_ID_MAX} characters`);
  if (input.userId === 0n) throw new InvalidInput("user_id", "is required");
  if (input.collapseKey.length > COLLAPSE_KEY_MAX) throw new InvalidInput("collapse_key", `must be at most ${COLLAPSE_KEY_MAX} characters`);
  checkParams(input.kind, input.params);
  return new Set<RequestedChannel>(input.channels.length === 0 ? ["push"] : input.channels);
}

/** The content a reused event id must repeat: user, kind, params and channels (badge and collapse key may change between retries). */
function fingerprintOf(input: SendInput, channels: ReadonlySet<RequestedChannel>): string {
  const params = Object.entries(input.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify([input.userId.toString(), input.kind, params, [...channels].sort()]);
  return createHash("sha256").update(canonical).digest("base64url");
}

function isMuted(user: UserTargets, conversationId: string | undefined): boolean {
  if (conversationId === undefined || !/^\d{1,20}$/.test(conversationId)) return false;
  return user.mutedConversationIds.has(BigInt(conversationId));
}
