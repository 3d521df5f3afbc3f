/**
 * Exponential backoff with full jitter: the n-th retry (from 0) waits a
 * uniformly random time in [0, min(maxMs, initialMs * 2^n)). Full jitter
 * spreads the reconnects of thousands of devices that a gateway restart
 * disconnected at the same instant, instead of bringing them back in waves.
 */
export interface BackoffOptions {
  /** The first window, in ms. Default 250. */
  initialMs?: number;
  /** The largest window, in ms. Default 30,000. */
  maxMs?: number;
  /** A source of numbers in [0, 1); injectable for tests. Default Math.random. */
  random?: () => number;
}

/** The window for the n-th retry (from 0): the delay is drawn from [0, window). */
export function backoffWindow(attempt: number, initialMs: number, maxMs: number): number {
  // 2^attempt overflows to Infinity past 1023, which Math.min handles.
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt));
}

/** The delay for the n-th retry (from 0), with full jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { initialMs = 250, maxMs = 30_000, random = Math.random } = options;
  return Math.floor(random() * backoffWindow(attempt, initialMs, maxMs));
}

/** Counts attempts; `next()` gives the delay before the next one, `reset()` after a success. */
export class Backoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions = {}) {}

  /** How many delays were handed out since the last reset. */
  get attempt(): number {
    return this.attempts;
  }

  /** The delay before the next attempt. */
  next(): number {
    return backoffDelay(this.attempts++, this.options);
  }

  /**
   * Skips ahead to at least the given attempt, for when the server asked to
   * slow down (close 4002, rate limited): later delays start from a larger
   * window.
   */
  atLeast(attempt: number): void {
    this.attempts = Math.max(this.attempts, attempt);
  }

  reset(): void {
    this.attempts = 0;
  }
}
