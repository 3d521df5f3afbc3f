/**
 * A small cache of lookups, bounded in age and in size. Concurrent misses of
 * one key share one lookup; a failed lookup is not kept, so the next caller
 * tries again. When full, the oldest entry goes: lookups here are cheap to
 * repeat, so no LRU bookkeeping.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: Promise<V>; expiresAt: number }>();

  constructor(private readonly o: { ttlMs: number; maxEntries: number; now?: () => number }) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    const now = (this.o.now ?? Date.now)();
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.expiresAt > now) return hit.value;
    this.entries.delete(key);
    const value = load();
    this.entries.set(key, { value, expiresAt: now + this.o.ttlMs });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    if (this.entries.size > this.o.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
    return value;
  }
}
