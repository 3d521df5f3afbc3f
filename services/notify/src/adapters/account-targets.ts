import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { AccountInternalService, PushPlatform, type GetNotificationTargetsResponse } from "@parley/contracts/parley/account/v1/account";
import { AnnouncedCache, followAccountAnnouncements, singleInstance, type InstanceSource } from "@parley/mesh";
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
 * Targets from the account service, cached per user and kept true by
 * account's announcements (AnnouncedCache: a user's entry dropped when their
 * targets change or a device logs out, everything when a stream opens or
 * breaks; while a stream is down the TTL bounds staleness).
 */
export class AccountTargetDirectory implements TargetDirectory {
  readonly #client: Client<typeof AccountInternalService>;
  readonly #cache: AnnouncedCache<bigint, UserTargets>;
  readonly #instances: InstanceSource;
  #watching: { close(): void } | undefined;

  constructor(
    transport: Transport,
    private readonly logger: Logger,
    options: AccountTargetsOptions,
  ) {
    this.#client = createClient(AccountInternalService, transport);
    this.#cache = new AnnouncedCache({ ttlMs: options.ttlMs, maxEntries: options.maxEntries ?? 10_000, now: options.now });
    this.#instances = options.instances ?? singleInstance(transport);
  }

  /** Starts following account's change announcements (call once). */
  watch(): void {
    this.#watching ??= followAccountAnnouncements(
      this.#instances,
      this.#cache,
      (event) => (event.case === "notificationTargetsChanged" || event.case === "deviceLoggedOut" ? event.value.userId : undefined),
      this.logger,
    );
  }

  targets(userId: bigint): Promise<UserTargets> {
    return this.#cache.get(userId, async () => {
      let reply: GetNotificationTargetsResponse;
      try {
        reply = await this.#client.getNotificationTargets({ userId });
      } catch (err) {
        if (err instanceof ConnectError && err.code === Code.NotFound) throw new NotFound(`user ${userId} does not exist`);
        throw dependencyFailure("the account service", err);
      }
      return toTargets(reply);
    });
  }

  async removePushToken(deviceId: bigint, token: string): Promise<void> {
    await this.#client.removePushToken({ deviceId, token });
  }

  async close(): Promise<void> {
    this.#watching?.close();
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
    muteMentions: s?.muteMentions ?? false,
    email: s?.email ?? "",
    phone: s?.phone ?? "",
    devices,
  };
}
