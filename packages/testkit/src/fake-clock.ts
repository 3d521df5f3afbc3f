interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to, with a timer queue, for code that
 * takes its clock, timers or sleep injected (idgen's Clock and sleep,
 * presence's Clock and Timers).
 *
 * - `now()` reads `ms`, which tests may also set directly, e.g. to step the
 *   clock back.
 * - `advance(ms)` moves time forward and fires due timers in order (by due
 *   time, then by the order they were set), with `now()` reading each timer's
 *   due time while it runs; timers set by a timer fire within the same
 *   `advance` when they fall due inside it.
 * - `sleep(ms)` records each wait and advances by it, as real time would,
 *   unless the clock is `stuck`.
 */
export class FakeClock {
  ms: number;
  /** While true, `sleep` returns without moving the clock (a clock that stands still). */
  stuck = false;
  /** Every `sleep`, in order. */
  readonly slept: number[] = [];
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  /** Starts on 2026-01-01 by default: after the Parley epoch (2025), so idgen can make ids on it. */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.ms = start;
  }

  now(): number {
    return this.ms;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.ms + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === "number") this.#timers.delete(handle);
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  advance(ms: number): void {
    const target = this.ms + ms;
    for (let next = this.#due(target); next; next = this.#due(target)) {
      this.#timers.delete(next.id);
      this.ms = next.at;
      next.fn();
    }
    this.ms = target;
  }

  /** A sleep to inject (bound, so it can be passed on its own). */
  readonly sleep = async (ms: number): Promise<void> => {
    this.slept.push(ms);
    if (!this.stuck) this.advance(ms);
  };

  totalSlept(): number {
    return this.slept.reduce((sum, ms) => sum + ms, 0);
  }

  #due(target: number): Timer | undefined {
    let first: Timer | undefined;
    for (const timer of this.#timers.values()) {
      if (timer.at <= target && (!first || timer.at < first.at || (timer.at === first.at && timer.id < first.id))) first = timer;
    }
    return first;
  }
}
