import { setTimeout as delay } from "node:timers/promises";

/**
 * The servers' one backoff: capped exponential with "equal jitter". (The
 * client SDK keeps its own full-jitter backoff in packages/client: a
 * different algorithm, in a package that must not depend on this one.)
 */
export interface BackoffOptions {
  /** The first delay's ceiling. */
  initialMs: number;
  /** No delay exceeds this, however many attempts failed. */
  maxMs: number;
  /** [0, 1); injectable for tests. Default Math.random. */
  random?: () => number;
}

/**
 * The delay before retry `attempt` (0 for the first): between half and all of
 * min(maxMs, initialMs * 2^attempt), in whole milliseconds. The jitter
 * spreads the retries of many callers that failed at the same moment (a
 * restarted dependency), so they do not come back in lockstep; the lower
 * half keeps a floor so a retry never follows a failure immediately. The
 * exponent stops at 30, far past any cap, so a zero initialMs never meets
 * 2^1024 = Infinity (0 * Infinity is NaN).
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface RetryOptions extends BackoffOptions {
  /** Give up once this much time has passed since the first attempt (the last error is rethrown). */
  deadlineMs: number;
  /** Only errors for which this returns true are retried; others are rethrown at once. */
  retryable: (err: unknown) => boolean;
  /** Told about every failed attempt that will be retried, e.g. to log it. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  /** Waits; injectable so tests control time. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

/**
 * Runs `attempt` until it succeeds, retrying retryable failures with capped,
 * jittered backoff until the deadline. A process that cannot reach a
 * dependency at start (etcd) therefore waits and retries in place instead of
 * exiting at once and being restarted in a tight crash loop by its supervisor.
 */
export async function retryWithBackoff<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }));
  const started = now();
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!options.retryable(err)) throw err;
      const remaining = options.deadlineMs - (now() - started);
      if (remaining <= 0 || options.signal?.aborted) throw err;
      const wait = Math.min(remaining, backoffDelayMs(n, options));
      options.onRetry?.(err, n + 1, wait);
      await sleep(wait, options.signal);
    }
  }
}

/**
 * The same backoff in the shape of cockatiel's IBackoff (`duration` and
 * `next()`), which etcd3 takes for reconnecting watch streams. etcd3's default
 * waits up to 30 s, which would leave a watcher blind for that long after
 * etcd is back.
 */
export class JitteredBackoff {
  readonly duration: number;

  constructor(
    private readonly options: BackoffOptions,
    private readonly attempt = 0,
  ) {
    this.duration = backoffDelayMs(attempt, options);
  }

  next(): JitteredBackoff {
    return new JitteredBackoff(this.options, this.attempt + 1);
  }
}
