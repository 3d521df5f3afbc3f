import type { UserPresence } from "@parley/contracts/parley/presence/v1/presence";

/**
 * A wall clock in milliseconds since 1970-01-01T00:00:00Z.
 *
 * Contract: none beyond "roughly now". Presence only compares readings a few
 * seconds apart (heartbeat age, grace deadlines), so an NTP step can shorten
 * or lengthen one grace period but never corrupts state.
 */
export interface Clock {
  now(): number;
}

/**
 * One-shot timers, injected so tests drive time by hand instead of sleeping.
 *
 * Contract: `fn` runs once, no earlier than `ms` after the call, unless the
 * handle is cleared first; clearing a handle that already fired (or twice) is
 * a no-op. Timers due at the same moment fire in the order they were set.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Durable "last seen" times, so `last_active_at` survives a presence restart.
 *
 * Contract:
 * - `save` is last-writer-wins per user but never moves a value backwards:
 *   saving an older time than the stored one leaves the stored one. Saves may
 *   therefore arrive out of order or be repeated (idempotent).
 * - `load` returns an entry only for users that were ever saved; unknown users
 *   are absent (not 0). An empty list returns an empty map.
 * - Times are milliseconds since the epoch; adapters keep at least
 *   millisecond precision.
 */
export interface LastSeenStore {
  load(userIds: readonly bigint[]): Promise<Map<bigint, number>>;
  save(userId: bigint, ms: number): Promise<void>;
}

/** What presence needs to know about people: friendships, who hides their presence, and blocks. */
export interface PeopleDirectory {
  /** Friends, less those blocked either way (a block suspends a friendship). */
  friendIds(userId: bigint): Promise<bigint[]>;
  hiding(userIds: readonly bigint[]): Promise<Set<bigint>>;
  /** Those of `userIds` hidden from `viewerId`: hiding their presence, or blocked either way with the viewer. */
  hiddenFrom(viewerId: bigint, userIds: readonly bigint[]): Promise<Set<bigint>>;
}

/**
 * Which presence instance owns each user: the rendezvous choice over the
 * registered, non-draining presence instances (`Owners` in @parley/mesh),
 * which the gateways and chat compute the same way from their own view of
 * the registry. Views differ only while a change propagates (about a second:
 * every party re-reads the registry every 500 ms).
 *
 * Contract: `ownerOf` is cheap and synchronous; `owns(u)` is
 * `ownerOf(u) === self`; an instance that is not (or no longer) in the
 * registry owns nobody, so one that lost its lease (paused past the TTL)
 * stops serving its old users as soon as its view shows it gone. Listeners
 * run after the view changed, never concurrently.
 */
export interface UserOwnership {
  /** The owning instance's address; undefined when no instance can own. */
  ownerOf(userId: bigint): string | undefined;
  /** By this instance's view of the registry. */
  owns(userId: bigint): boolean;
  /**
   * True while this instance's registration is certainly live (its lease
   * confirmed within the fencing window). False right after a pause longer
   * than that window: the instance then publishes nothing until it is sure
   * again, since its users may belong to another instance by now.
   */
  serving(): boolean;
  /**
   * Owned, serving, and owned in every view of the last 2 s, so the
   * gateways have had time to re-send their sessions: a device lookup can
   * then trust "no device".
   */
  settled(userId: bigint): boolean;
  /** Called after the set of owning instances changed, or `serving()` did. */
  onChange(listener: () => void): void;
}

/** One status change relayed to another instance, for the followers it owns. */
export interface Relay {
  presence: UserPresence;
  followerIds: readonly bigint[];
}

/**
 * The other presence instances, for the calls between owners.
 *
 * Contract: `relay` is fire-and-forget and at most once: relays to one
 * address made in one event-loop turn go as one call, a failure is logged
 * and not retried (the followers see the next change). `getPresence` is
 * GetPresence on that instance, rejecting when it cannot answer.
 */
export interface PresencePeers {
  relay(address: string, relay: Relay): void;
  getPresence(address: string, viewerId: bigint, userIds: readonly bigint[]): Promise<UserPresence[]>;
}
