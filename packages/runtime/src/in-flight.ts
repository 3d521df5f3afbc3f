/**
 * Requests waiting for their answers, under the sequential ids this hands
 * out (1, 2, 3, ...), kept in a ring: adding and taking allocate nothing
 * while the span from the oldest waiting id to the newest fits the ring.
 *
 * Why not a Map: a long-lived Map that gains and loses an entry per
 * request reallocates its hash table as it grows and shrinks, and V8
 * allocates a new table of an old Map straight in the old generation, so
 * every few requests left garbage that only a full collection frees
 * (docs/performance.md, "The tail at 2,000 msg/s, attributed").
 *
 * The ring doubles when the span reaches its size: one request waiting
 * for long while many others come and go keeps the span open, so callers
 * bound how long a request may wait (a deadline) and the ring's size with
 * it.
 */
export class InFlight<T> {
  #slots: (T | undefined)[];
  #mask: number;
  /** The oldest id that may still wait; every id below it is answered. */
  #head = 1;
  /** The id the next add gets. */
  #next = 1;
  #size = 0;

  constructor(initialCapacity = 64) {
    let capacity = 1;
    while (capacity < initialCapacity) capacity *= 2;
    this.#slots = new Array<T | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
  }

  /** How many wait. */
  get size(): number {
    return this.#size;
  }

  /** Adds a waiting request and returns its id. */
  add(value: T): number {
    if (this.#next - this.#head === this.#slots.length) this.#grow();
    const id = this.#next++;
    this.#slots[id & this.#mask] = value;
    this.#size++;
    return id;
  }

  /** The request waiting under `id`, removed; undefined when none waits under it (answered, or never handed out). */
  take(id: number): T | undefined {
    if (!Number.isSafeInteger(id) || id < this.#head || id >= this.#next) return undefined;
    const index = id & this.#mask;
    const value = this.#slots[index];
    if (value === undefined) return undefined;
    this.#slots[index] = undefined;
    this.#size--;
    while (this.#head < this.#next && this.#slots[this.#head & this.#mask] === undefined) this.#head++;
    return value;
  }

  /** The longest-waiting request, or undefined when none waits. */
  oldest(): T | undefined {
    return this.#head < this.#next ? this.#slots[this.#head & this.#mask] : undefined;
  }

  /** The waiting requests with their ids, oldest first. */
  *entries(): IterableIterator<[id: number, value: T]> {
    for (let id = this.#head; id < this.#next; id++) {
      const value = this.#slots[id & this.#mask];
      if (value !== undefined) yield [id, value];
    }
  }

  /** Removes every waiting request and returns them, oldest first. */
  takeAll(): T[] {
    const all: T[] = [];
    for (const [, value] of this.entries()) all.push(value);
    this.#slots.fill(undefined);
    this.#head = this.#next;
    this.#size = 0;
    return all;
  }

  #grow(): void {
    const old = this.#slots;
    const oldMask = this.#mask;
    this.#slots = new Array<T | undefined>(old.length * 2).fill(undefined);
    this.#mask = this.#slots.length - 1;
    for (let id = this.#head; id < this.#next; id++) this.#slots[id & this.#mask] = old[id & oldMask];
  }
}
