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

/** What presence needs to know about people: friendships and who hides their presence. */
export interface PeopleDirectory {
  friendIds(userId: bigint): Promise<bigint[]>;
  hiding(userIds: readonly bigint[]): Promise<Set<bigint>>;
}
