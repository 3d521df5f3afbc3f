import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { PresenceUpdateSchema, Status, UserPresenceSchema, type PresenceUpdate, type UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import type { Logger } from "@parley/runtime";
import type { PresenceTracker, SessionRef, StatusChange, UserStatus } from "./domain/tracker.js";
import { InvalidInput } from "./errors.js";
import type { PeopleDirectory, PresencePeers, UserOwnership } from "./ports.js";

export const GET_PRESENCE_MAX = 200;

/** The instance's place among the presence instances: who owns which user, and how to reach the others. */
export interface PresenceCluster {
  ownership: UserOwnership;
  peers: PresencePeers;
}

/**
 * Joins the tracker (who is online), the people directory (who is friends
 * with whom) and the gateways' streams, for the users this instance owns.
 *
 * Status changes are routed by friendship: when a user F this instance owns
 * turns online or offline, it looks up F's friends, groups them by owner and
 * hands each group to its owner (itself, or another instance through
 * RelayStatuses), which tells those friends' devices through their gateways.
 * A connecting device is sent its friends' current statuses, asked from each
 * friend's owner.
 *
 * Privacy rule: a user who hides their presence is seen by everyone as
 * offline with no last-active time and causes no live updates. Otherwise
 * friends see status and last-active time, live; non-friends (group members)
 * may ask GetPresence and see only online/offline, never the last-active time.
 * Two users blocked either way see each other as a hidden user is seen: they
 * are not friends to presence while the block lasts (account's friend lists
 * leave them out), and GetPresence asks account about the non-friends.
 *
 * Ownership moves (an instance joins, drains or dies): users this instance
 * no longer owns are forgotten without an "offline" (their new owner has
 * them from the gateways' hellos, and a false offline is worse than a
 * repeated online); a change of a user it does not own is never published.
 */
export class PresenceHub {
  private readonly gateways = new Map<string, (update: PresenceUpdate) => void>();
  private tracker!: PresenceTracker;
  /** Users who came online here before this instance's view made it their owner: announced once it does. */
  private readonly unannounced = new Set<bigint>();
  /** Friend lists being fetched, shared by the callers of one moment (a connect both publishes and follows). */
  private readonly friendLookups = new Map<bigint, Promise<bigint[]>>();

  constructor(
    private readonly people: PeopleDirectory,
    private readonly logger: Logger,
    private readonly cluster: PresenceCluster,
  ) {
    cluster.ownership.onChange(() => this.ownershipChanged());
  }

  /** Set once, after the tracker (whose change callback is this hub's) exists. */
  useTracker(tracker: PresenceTracker): void {
    this.tracker = tracker;
  }

  /** A gateway's stream opened; `send` writes updates for its devices. Every listed device is sent its friends' statuses. */
  async gatewayHello(gatewayId: string, sessions: readonly SessionRef[], send: (update: PresenceUpdate) => void): Promise<void> {
    this.gateways.set(gatewayId, send);
    this.tracker.gatewayHello(gatewayId, sessions);
    await Promise.all(sessions.map((s) => this.follow(gatewayId, s.userId, s.deviceId)));
  }

  /**
   * A later hello on the same stream (the gateway re-shared its sessions
   * after the instance set changed): replaces the gateway's sessions here;
   * only devices new here are sent their friends' statuses, without holding
   * up the gateway's next events (a takeover may bring many at once).
   */
  gatewayRehello(gatewayId: string, sessions: readonly SessionRef[]): void {
    const fresh = sessions.filter((s) => !this.tracker.has(gatewayId, s.userId, s.deviceId));
    this.tracker.gatewayHello(gatewayId, sessions);
    for (const s of fresh) void this.follow(gatewayId, s.userId, s.deviceId);
  }

  gatewayLost(gatewayId: string): void {
    this.gateways.delete(gatewayId);
    this.tracker.gatewayLost(gatewayId);
  }

  async connected(gatewayId: string, userId: bigint, deviceId: bigint): Promise<void> {
    this.tracker.connect(gatewayId, userId, deviceId);
    await this.follow(gatewayId, userId, deviceId);
  }

  disconnected(gatewayId: string, userId: bigint, deviceId: bigint): void {
    this.tracker.disconnect(gatewayId, userId, deviceId);
  }

  /** Observes every heartbeat (metrics). */
  onHeartbeat: (known: boolean) => void = () => {};

  /** False for a session presence does not know: a documented silent drop. */
  heartbeat(gatewayId: string, userId: bigint, deviceId: bigint): boolean {
    const known = this.tracker.heartbeat(gatewayId, userId, deviceId);
    this.onHeartbeat(known);
    return known;
  }

  /** The tracker's change callback: tell the user's friends, through each friend's owner. */
  async publish(change: StatusChange): Promise<void> {
    const { ownership, peers } = this.cluster;
    if (!ownership.owns(change.userId) || !ownership.serving()) {
      if (change.status === "online") this.unannounced.add(change.userId);
      return;
    }
    this.unannounced.delete(change.userId);
    try {
      if ((await this.people.hiding([change.userId])).has(change.userId)) return;
      const presence = toPresence(change.userId, { online: change.status === "online", lastActiveAt: change.lastActiveAt }, true);
      for (const [owner, followerIds] of groupByOwner(await this.friendsOf(change.userId), ownership)) {
        if (ownership.owns(followerIds[0]!)) this.relayed(presence, followerIds);
        else peers.relay(owner, { presence, followerIds });
      }
    } catch (err) {
      this.logger.warn({ err, userId: change.userId }, "publishing a presence change failed");
    }
  }

  /** A status change for these followers (relayed by its user's owner, or this instance's own): their devices here are told. */
  relayed(presence: UserPresence, followerIds: readonly bigint[]): void {
    const byGateway = new Map<string, bigint[]>();
    for (const { gatewayId, deviceId } of this.tracker.devices(followerIds)) {
      const ids = byGateway.get(gatewayId);
      if (ids) ids.push(deviceId);
      else byGateway.set(gatewayId, [deviceId]);
    }
    for (const [gatewayId, deviceIds] of byGateway) this.gateways.get(gatewayId)?.(create(PresenceUpdateSchema, { deviceIds, presence }));
  }

  /** What this instance holds of these users, as the viewer may see it (callers ask each user's owner). */
  async getPresence(viewerId: bigint, userIds: readonly bigint[]): Promise<UserPresence[]> {
    if (userIds.length > GET_PRESENCE_MAX) throw new InvalidInput("user_ids", `must name at most ${GET_PRESENCE_MAX} users`);
    const unique = [...new Set(userIds)];
    const [statuses, hiding, friends] = await Promise.all([
      this.tracker.statuses(unique),
      this.people.hiding(unique),
      viewerId === 0n ? Promise.resolve([]) : this.people.friendIds(viewerId),
    ]);
    const friendSet = new Set(friends);
    // Friends are never blocked with the viewer (a block suspends the friendship): only the others are asked about.
    const strangers = viewerId === 0n ? [] : unique.filter((userId) => userId !== viewerId && !friendSet.has(userId) && !hiding.has(userId));
    const blocked = strangers.length === 0 ? new Set<bigint>() : await this.people.hiddenFrom(viewerId, strangers);
    return unique.map((userId) => {
      if ((hiding.has(userId) || blocked.has(userId)) && userId !== viewerId) return toPresence(userId, { online: false, lastActiveAt: undefined }, false);
      return toPresence(userId, statuses.get(userId) ?? { online: false, lastActiveAt: undefined }, friendSet.has(userId) || userId === viewerId);
    });
  }

  locate(userIds: readonly bigint[]) {
    return this.tracker.devices(userIds);
  }

  /** The users among these whose "no device" this instance cannot vouch for now (see UserOwnership.settled). */
  unsettled(userIds: readonly bigint[]): bigint[] {
    return userIds.filter((userId) => !this.cluster.ownership.settled(userId));
  }

  /** The instance set changed: forget the users now owned elsewhere, announce the ones that arrived early. */
  private ownershipChanged(): void {
    const { ownership } = this.cluster;
    const held = this.tracker.users();
    const gone = held.filter((user) => !ownership.owns(user.userId)).map((user) => user.userId);
    const goneSet = new Set(gone);
    this.tracker.forget(gone);
    if (gone.length > 0) this.logger.info({ users: gone.length }, "forgot the users now owned by another presence instance");
    for (const user of held) {
      if (!this.unannounced.has(user.userId) || !ownership.owns(user.userId) || !ownership.serving()) continue;
      if (user.online) void this.publish({ userId: user.userId, status: "online", lastActiveAt: user.lastActiveAt });
    }
    const stillHeld = new Set(held.map((user) => user.userId).filter((userId) => !goneSet.has(userId)));
    for (const userId of this.unannounced) if (!stillHeld.has(userId) || (ownership.owns(userId) && ownership.serving())) this.unannounced.delete(userId);
  }

  /** Tells the device its friends' current presence, asked from each friend's owner. */
  private async follow(gatewayId: string, userId: bigint, deviceId: bigint): Promise<void> {
    try {
      const friends = await this.friendsOf(userId);
      if (friends.length === 0 || !this.gateways.has(gatewayId)) return;
      for (const presence of await this.presenceOf(userId, friends)) {
        this.gateways.get(gatewayId)?.(create(PresenceUpdateSchema, { deviceIds: [deviceId], presence }));
      }
    } catch (err) {
      this.logger.warn({ err, userId }, "telling a device its friends' presence failed");
    }
  }

  /** Presence of any number of users as the viewer may see it, from each one's owner; an owner that cannot answer is skipped (logged). */
  private async presenceOf(viewerId: bigint, userIds: readonly bigint[]): Promise<UserPresence[]> {
    const { ownership, peers } = this.cluster;
    const asks: Promise<UserPresence[]>[] = [];
    for (const [owner, group] of groupByOwner(userIds, ownership)) {
      for (let i = 0; i < group.length; i += GET_PRESENCE_MAX) {
        const chunk = group.slice(i, i + GET_PRESENCE_MAX);
        const ask = ownership.owns(chunk[0]!) ? this.getPresence(viewerId, chunk) : peers.getPresence(owner, viewerId, chunk);
        asks.push(
          ask.catch((err: unknown) => {
            this.logger.warn({ err, owner }, "another presence instance could not say its users' presence");
            return [];
          }),
        );
      }
    }
    return (await Promise.all(asks)).flat();
  }

  private friendsOf(userId: bigint): Promise<bigint[]> {
    let lookup = this.friendLookups.get(userId);
    if (lookup === undefined) {
      lookup = this.people.friendIds(userId);
      this.friendLookups.set(userId, lookup);
      const done = () => this.friendLookups.delete(userId);
      lookup.then(done, done);
    }
    return lookup;
  }
}

/** Users grouped by their owner's address; users no instance owns are left out. */
function groupByOwner(userIds: readonly bigint[], ownership: UserOwnership): Map<string, bigint[]> {
  const groups = new Map<string, bigint[]>();
  for (const userId of userIds) {
    const owner = ownership.ownerOf(userId);
    if (owner === undefined) continue;
    const group = groups.get(owner);
    if (group) group.push(userId);
    else groups.set(owner, [userId]);
  }
  return groups;
}

function toPresence(userId: bigint, status: UserStatus, withLastActive: boolean): UserPresence {
  return create(UserPresenceSchema, {
    userId,
    status: status.online ? Status.ONLINE : Status.OFFLINE,
    ...(withLastActive && status.lastActiveAt !== undefined ? { lastActiveAt: timestampFromMs(status.lastActiveAt) } : {}),
  });
}
