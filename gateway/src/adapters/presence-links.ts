import { createClient, type Client } from "@connectrpc/connect";
import { PresenceService, type PresenceUpdate, type UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import { Owners, type InstanceSource } from "@parley/mesh";
import type { Logger } from "@parley/runtime";
import { PresenceLink } from "./presence-link.js";

/** A session this gateway holds. */
export interface HeldSession {
  userId: bigint;
  deviceId: bigint;
}

/** How often the instance list is read again: the period presence and chat use too, so views agree within about a second. */
const REFRESH_MS = 500;
/** GetPresence's limit at presence: a longer list goes whole to one instance, which refuses it as before. */
const GET_PRESENCE_MAX = 200;

interface Entry {
  link: PresenceLink;
  client: Client<typeof PresenceService>;
}

/**
 * The gateway's streams to every presence instance, one PresenceLink each,
 * following the registry. Each user has one owner among the instances
 * registered and not draining (`Owners`, the rendezvous choice presence and
 * chat make too): a session's events go to its user's owner, and each
 * link's hello lists only the sessions of the users its instance owns. When
 * the instance set changes, every link whose owned sessions changed sends a
 * fresh hello on its open stream (presence replaces that gateway's sessions
 * with it), so the new owners learn their users without any client
 * reconnecting. Events for an instance whose stream is down are dropped: the
 * hello on reopening carries the truth. getPresence asks each user's owner
 * and merges the answers in the order asked.
 */
export class PresenceLinks {
  private readonly links = new Map<string, Entry>();
  private owners = new Owners([]);
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly instances: InstanceSource,
    private readonly gatewayId: string,
    private readonly sessions: () => HeldSession[],
    private readonly onUpdate: (update: PresenceUpdate) => void,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** Opens a stream to every instance now, and keeps following the registry. */
  connect(): void {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  connected(userId: bigint, deviceId: bigint): void {
    this.linkOf(userId)?.connected(userId, deviceId);
  }

  disconnected(userId: bigint, deviceId: bigint): void {
    this.linkOf(userId)?.disconnected(userId, deviceId);
  }

  heartbeat(userId: bigint, deviceId: bigint): void {
    this.linkOf(userId)?.heartbeat(userId, deviceId);
  }

  /** The users' presence as the viewer may see it, from each user's owner, one per distinct user in the order asked. */
  async getPresence(viewerId: bigint, userIds: bigint[]): Promise<UserPresence[]> {
    const groups = userIds.length > GET_PRESENCE_MAX ? new Map([[this.owners.of(userIds[0]!), userIds]]) : this.owners.split(userIds);
    const answers = await Promise.all(
      [...groups].map(([owner, group]) => {
        const entry = owner === undefined ? undefined : this.links.get(owner);
        if (entry === undefined) return Promise.reject(new Error("no presence instance is registered"));
        return entry.client.getPresence({ viewerId, userIds: group }, { timeoutMs: this.timeoutMs });
      }),
    );
    const byUser = new Map(answers.flatMap((answer) => answer.presences.map((presence) => [presence.userId, presence] as const)));
    return [...new Set(userIds)].flatMap((userId) => byUser.get(userId) ?? []);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const { link } of this.links.values()) link.close();
    this.links.clear();
  }

  private linkOf(userId: bigint): PresenceLink | undefined {
    const owner = this.owners.of(userId);
    return owner === undefined ? undefined : this.links.get(owner)?.link;
  }

  /** Follows the registry: links opened and closed, and the sessions re-shared when owners changed. */
  private refresh(): void {
    if (this.closed) return;
    const now = this.instances.current();
    for (const [address, { link }] of this.links) {
      if (now.some((instance) => instance.address === address)) continue;
      link.close();
      this.links.delete(address);
      this.logger.info({ address }, "presence instance left the registry; its stream is closed");
    }
    const next = new Owners(now);
    const moved = next.sameAs(this.owners) ? new Set<string>() : this.movedBetween(this.owners, next);
    this.owners = next;
    for (const { address } of now) {
      if (this.links.has(address)) continue;
      const link = new PresenceLink(
        this.instances.transport(address),
        this.gatewayId,
        () => this.sessions().filter((s) => this.owners.of(s.userId) === address),
        this.onUpdate,
        this.logger,
      );
      this.links.set(address, { link, client: createClient(PresenceService, this.instances.transport(address)) });
      link.connect(); // its first hello lists what it owns
      moved.delete(address);
    }
    for (const address of moved) this.links.get(address)?.link.reannounce();
    if (moved.size > 0) this.logger.info({ instances: next.addresses, reannounced: [...moved] }, "presence instances changed; sessions re-shared");
  }

  /** The instances that gained or lost sessions of this gateway between two snapshots. */
  private movedBetween(before: Owners, after: Owners): Set<string> {
    const moved = new Set<string>();
    for (const { userId } of this.sessions()) {
      const [from, to] = [before.of(userId), after.of(userId)];
      if (from === to) continue;
      if (from !== undefined) moved.add(from);
      if (to !== undefined) moved.add(to);
    }
    return moved;
  }
}
