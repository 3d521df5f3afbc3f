import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { AccountInternalService, PushPlatform, type GetNotificationTargetsResponse } from "@parley/contracts/parley/account/v1/account";
import { followEveryInstance, singleInstance, type InstanceSource } from "@parley/mesh";
import { dependencyFailure, type Logger } from "@parley/runtime";
import { NotFound } from "../errors.js";
import type { TargetDirectory, UserTargets } from "../ports.js";

export interface AccountTargetsOptions {
  /** How long an answer is reused; 0 turns the cache off. */
  ttlMs: number;
  /** Most users kept; the oldest entry goes first. Default 10,000. */
  maxEntries?: number;
  now?: () => number;
  /** Every account instance, whose change announcements are followed (each announces only its own). Default: the one behind the transport. */
  instances?: InstanceSource;
}

/**
 * Targets from the account service, cached per user. Each account instance
 * announces the changes made on it on WatchAccountEvents; this follows the
 * stream of every instance (opened again when it breaks) and drops a user's
 * entry when told. While a stream is down the TTL bounds staleness, and
 * when one opens or breaks the whole cache is dropped: what changed while
 * nobody listened is unknown.
 */
export class AccountTargetDirectory implements TargetDirectory {
  readonly #client: Client<typeof AccountInternalService>;
  readonly #cache = new Map<bigint, { value: UserTargets; at: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #instances: InstanceSource;
  /** Bumped on every invalidation, so a fetch that raced one does not store what it read. */
  #generation = 0;
  #watching: { close(): void } | undefined;

  constructor(
    transport: Transport,
    private readonly logger: Logger,
    options: AccountTargetsOptions,
  ) {
    this.#client = createClient(AccountInternalService, transport);
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#instances = options.instances ?? singleInstance(transport);
  }

  /** Starts following account's change announcements (call once). */
  watch(): void {
    this.#watching ??= followEveryInstance(this.#instances, (transport, signal) => this.#follow(transport, signal), {
      onError: (err, address) => {
        this.#invalidate();
        this.logger.debug({ err, address }, "account event stream ended; reconnecting");
      },
    });
  }

  async targets(userId: bigint): Promise<UserTargets> {
    const cached = this.#cache.get(userId);
    if (cached && this.#now() - cached.at < this.#ttlMs) return cached.value;
    const generation = this.#generation;
    let reply: GetNotificationTargetsResponse;
    try {
      reply = await this.#client.getNotificationTargets({ userId });
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.NotFound) throw new NotFound(`user ${userId} does not exist`);
      throw dependencyFailure("the account service", err);
    }
    const value = toTargets(reply);
    if (this.#ttlMs > 0 && generation === this.#generation) {
      this.#cache.delete(userId);
      this.#cache.set(userId, { value, at: this.#now() });
      if (this.#cache.size > this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return value;
  }

  async removePushToken(deviceId: bigint, token: string): Promise<void> {
    await this.#client.removePushToken({ deviceId, token });
  }

  async close(): Promise<void> {
    this.#watching?.close();
  }

  #invalidate(userId?: bigint): void {
    this.#generation++;
    if (userId === undefined) this.#cache.clear();
    else this.#cache.delete(userId);
  }

  async #follow(transport: Transport, signal: AbortSignal): Promise<void> {
    const events = createClient(AccountInternalService, transport).watchAccountEvents({}, { signal });
    // Whatever changed while we were not listening is unknown: start afresh, and again when it ends.
    this.#invalidate();
    try {
      for await (const { event } of events) {
        if (event.case === "notificationTargetsChanged" || event.case === "deviceLoggedOut") this.#invalidate(event.value.userId);
      }
    } finally {
      this.#invalidate();
    }
  }
}

function toTargets(reply: GetNotificationTargetsResponse): UserTargets {
  const s = reply.settings;
  const devices: UserTargets["devices"][number][] = [];
  for (const t of reply.pushTargets) {
    if (t.platform === PushPlatform.FCM && t.token) devices.push({ deviceId: t.deviceId, target: { channel: "fcm", token: t.token } });
    else if (t.platform === PushPlatform.APNS && t.token) devices.push({ deviceId: t.deviceId, target: { channel: "apns", token: t.token } });
    else if (t.platform === PushPlatform.WEB_PUSH && t.webPush) {
      devices.push({ deviceId: t.deviceId, target: { channel: "webpush", endpoint: t.webPush.endpoint, p256dh: t.webPush.p256dh, auth: t.webPush.auth } });
    }
  }
  return {
    displayName: reply.profile?.displayName ?? "",
    pushEnabled: s?.pushEnabled ?? true,
    emailEnabled: s?.emailEnabled ?? false,
    smsEnabled: s?.smsEnabled ?? false,
    showPreviews: s?.showPreviews ?? true,
    previewLength: s?.previewLength ?? 0,
    mutedConversationIds: new Set(s?.mutedConversationIds ?? []),
    email: s?.email ?? "",
    phone: s?.phone ?? "",
    devices,
  };
}
