import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { PresenceUpdateSchema, Status, UserPresenceSchema, type PresenceUpdate, type UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import type { Logger } from "@parley/runtime";
import type { PresenceTracker, SessionRef, StatusChange, UserStatus } from "./domain/tracker.js";
import type { Subscriptions } from "./domain/subscriptions.js";
import { InvalidInput } from "./errors.js";
import type { PeopleDirectory } from "./ports.js";

export const GET_PRESENCE_MAX = 200;

/**
 * Joins the tracker (who is online), the subscriptions (which devices follow
 * whom: each device follows the user's friends) and the gateways' streams.
 *
 * Privacy rule: a user who hides their presence is seen by everyone as
 * offline with no last-active time and causes no live updates. Otherwise
 * friends see status and last-active time, live; non-friends (group members)
 * may ask GetPresence and see only online/offline, never the last-active time.
 */
export class PresenceHub {
  private readonly gateways = new Map<string, (update: PresenceUpdate) => void>();
  private tracker!: PresenceTracker;

  constructor(
    private readonly subscriptions: Subscriptions,
    private readonly people: PeopleDirectory,
    private readonly logger: Logger,
  ) {}

  /** Set once, after the tracker (whose change callback is this hub's) exists. */
  useTracker(tracker: PresenceTracker): void {
    this.tracker = tracker;
  }

  /** A gateway's stream opened; `send` writes updates for its devices. */
  async gatewayHello(gatewayId: string, sessions: readonly SessionRef[], send: (update: PresenceUpdate) => void): Promise<void> {
    this.gateways.set(gatewayId, send);
    this.subscriptions.unsubscribeGateway(gatewayId);
    this.tracker.gatewayHello(gatewayId, sessions);
    await Promise.all(sessions.map((s) => this.follow(gatewayId, s.userId, s.deviceId)));
  }

  gatewayLost(gatewayId: string): void {
    this.gateways.delete(gatewayId);
    this.subscriptions.unsubscribeGateway(gatewayId);
    this.tracker.gatewayLost(gatewayId);
  }

  async connected(gatewayId: string, userId: bigint, deviceId: bigint): Promise<void> {
    this.tracker.connect(gatewayId, userId, deviceId);
    await this.follow(gatewayId, userId, deviceId);
  }

  disconnected(gatewayId: string, userId: bigint, deviceId: bigint): void {
    this.tracker.disconnect(gatewayId, userId, deviceId);
    this.subscriptions.unsubscribeDevice({ gatewayId, userId, deviceId });
  }

  /** Observes every heartbeat (metrics). */
  onHeartbeat: (known: boolean) => void = () => {};

  /** False for a session presence does not know: a documented silent drop. */
  heartbeat(gatewayId: string, userId: bigint, deviceId: bigint): boolean {
    const known = this.tracker.heartbeat(gatewayId, userId, deviceId);
    this.onHeartbeat(known);
    return known;
  }

  /** The tracker's change callback: tell the subscribed devices, gateway by gateway. */
  async publish(change: StatusChange): Promise<void> {
    try {
      if ((await this.people.hiding([change.userId])).has(change.userId)) return;
      const presence = toPresence(change.userId, { online: change.status === "online", lastActiveAt: change.lastActiveAt }, true);
      for (const [gatewayId, deviceIds] of this.subscriptions.subscribersByGateway(change.userId)) {
        this.gateways.get(gatewayId)?.(create(PresenceUpdateSchema, { deviceIds, presence }));
      }
    } catch (err) {
      this.logger.warn({ err, userId: change.userId }, "publishing a presence change failed");
    }
  }

  async getPresence(viewerId: bigint, userIds: readonly bigint[]): Promise<UserPresence[]> {
    if (userIds.length > GET_PRESENCE_MAX) throw new InvalidInput("user_ids", `must name at most ${GET_PRESENCE_MAX} users`);
    const unique = [...new Set(userIds)];
    const [statuses, hiding, friends] = await Promise.all([
      this.tracker.statuses(unique),
      this.people.hiding(unique),
      viewerId === 0n ? Promise.resolve([]) : this.people.friendIds(viewerId),
    ]);
    const friendSet = new Set(friends);
    return unique.map((userId) => {
      if (hiding.has(userId) && userId !== viewerId) return toPresence(userId, { online: false, lastActiveAt: undefined }, false);
      return toPresence(userId, statuses.get(userId) ?? { online: false, lastActiveAt: undefined }, friendSet.has(userId) || userId === viewerId);
    });
  }

  locate(userIds: readonly bigint[]) {
    return this.tracker.devices(userIds);
  }

  /** Makes the device follow the user's friends and tells it their current presence. */
  private async follow(gatewayId: string, userId: bigint, deviceId: bigint): Promise<void> {
    try {
      const friends = await this.people.friendIds(userId);
      this.subscriptions.subscribe({ gatewayId, userId, deviceId }, friends);
      const send = this.gateways.get(gatewayId);
      if (!send || friends.length === 0) return;
      for (const presence of await this.getPresence(userId, friends)) {
        send(create(PresenceUpdateSchema, { deviceIds: [deviceId], presence }));
      }
    } catch (err) {
      this.logger.warn({ err, userId }, "subscribing a device to its friends failed");
    }
  }
}

function toPresence(userId: bigint, status: UserStatus, withLastActive: boolean): UserPresence {
  return create(UserPresenceSchema, {
    userId,
    status: status.online ? Status.ONLINE : Status.OFFLINE,
    ...(withLastActive && status.lastActiveAt !== undefined ? { lastActiveAt: timestampFromMs(status.lastActiveAt) } : {}),
  });
}
