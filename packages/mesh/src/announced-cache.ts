import { createClient, type Transport } from "@connectrpc/connect";
import { AccountInternalService, type WatchAccountEventsResponse } from "@parley/contracts/parley/account/v1/account";
import type { Logger } from "@parley/runtime";
import { followEveryInstance, type InstanceSource } from "./every-instance.js";

export interface AnnouncedCacheOptions {
  /** The longest an answer is reused, whatever the announcements: the bound on staleness while no announcement can arrive. 0: nothing is kept. */
  ttlMs: number;
  /** Most entries kept; the oldest goes first. */
  maxEntries: number;
  now?: (() => number) | undefined;
}

/**
 * Answers another service owns, cached and kept true by that service's
 * announcements of what changed: `invalidate(key)` on an announcement,
 * `invalidate()` when the announcements may have been missed (a stream
 * opened or broke). A fetch that raced an invalidation returns its answer
 * but does not store it (a generation counter), so an answer made stale by
 * an announcement is never kept after it.
 *
 * Concurrent misses of one key share one fetch: without that, every caller
 * arriving while the first fetch was out made its own (at 1,000 sends a
 * second a cold or expired pair cost a call per send, and the owner's
 * slower answers let more pile up). A caller after an invalidation does not
 * join a fetch made before it: its answer may predate what was announced.
 */
export class AnnouncedCache<K, V> {
  readonly #entries = new Map<K, { value: V; at: number }>();
  /** Fetches out now, by key, for callers missing the same key to share. */
  readonly #fetching = new Map<K, Promise<V>>();
  readonly #now: () => number;
  #generation = 0;

  constructor(private readonly o: AnnouncedCacheOptions) {
    this.#now = o.now ?? Date.now;
  }

  /** The cached value while younger than ttlMs; undefined otherwise (no fetch). */
  peek(key: K): V | undefined {
    const cached = this.#entries.get(key);
    return cached && this.#now() - cached.at < this.o.ttlMs ? cached.value : undefined;
  }

  /** The cached value while younger than ttlMs, else `fetch`'s, or that of the fetch already out for `key`. */
  get(key: K, fetch: () => Promise<V>): Promise<V> {
    const cached = this.#entries.get(key);
    if (cached && this.#now() - cached.at < this.o.ttlMs) return Promise.resolve(cached.value);
    const out = this.#fetching.get(key);
    if (out !== undefined) return out;
    const generation = this.#generation;
    let started: Promise<V>;
    try {
      started = fetch();
    } catch (err) {
      return Promise.reject(err); // a fetch that throws at once fails as one that rejects
    }
    const fetched: Promise<V> = started.then(
      (value) => {
        this.#settled(key, fetched);
        if (this.o.ttlMs > 0 && generation === this.#generation) {
          this.#entries.delete(key);
          this.#entries.set(key, { value, at: this.#now() });
          if (this.#entries.size > this.o.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
        }
        return value;
      },
      (err: unknown) => {
        this.#settled(key, fetched); // a failure is not shared with later callers: they ask again
        throw err;
      },
    );
    this.#fetching.set(key, fetched);
    return fetched;
  }

  /** Forgets `key`, or everything, and the fetches out for it, so that later callers fetch anew. */
  invalidate(key?: K): void {
    this.#generation++;
    if (key === undefined) {
      this.#entries.clear();
      this.#fetching.clear();
    } else {
      this.#entries.delete(key);
      this.#fetching.delete(key);
    }
  }

  #settled(key: K, fetched: Promise<V>): void {
    if (this.#fetching.get(key) === fetched) this.#fetching.delete(key);
  }
}

/**
 * Follows WatchAccountEvents on every account instance (each announces only
 * the changes made on it), invalidating `cache` for each event `keyOf` maps
 * to a key, and wholly when a stream opens or ends: what changed while
 * nobody listened is unknown.
 */
export function followAccountAnnouncements<K>(
  instances: InstanceSource,
  cache: Pick<AnnouncedCache<K, unknown>, "invalidate">,
  keyOf: (event: WatchAccountEventsResponse["event"]) => K | undefined,
  logger: Logger,
): { close(): void } {
  const follow = async (transport: Transport, signal: AbortSignal) => {
    const events = createClient(AccountInternalService, transport).watchAccountEvents({}, { signal });
    cache.invalidate();
    try {
      for await (const { event } of events) {
        const key = keyOf(event);
        if (key !== undefined) cache.invalidate(key);
      }
    } finally {
      cache.invalidate();
    }
  };
  return followEveryInstance(instances, follow, {
    onError: (err, address) => {
      cache.invalidate();
      logger.debug({ err, address }, "account event stream ended; reconnecting");
    },
  });
}
