import type { Clock, Timers } from "../src/domain/ports.js";

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A hand-driven clock and timer queue: `advance` moves time forward and fires
 * due timers in order (by due time, then by the order they were set), with
 * `now()` reading each timer's due time while it runs. Timers set by a timer
 * fire within the same `advance` when they fall due inside it.
 */
export class FakeTime implements Clock, Timers {
  private current: number;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { id, at: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === "number") this.pending.delete(handle);
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  advance(ms: number): void {
    const target = this.current + ms;
    for (let next = this.due(target); next; next = this.due(target)) {
      this.pending.delete(next.id);
      this.current = next.at;
      next.fn();
    }
    this.current = target;
  }

  private due(target: number): Pending | undefined {
    let first: Pending | undefined;
    for (const timer of this.pending.values()) {
      if (timer.at <= target && (!first || timer.at < first.at || (timer.at === first.at && timer.id < first.id))) first = timer;
    }
    return first;
  }
}
