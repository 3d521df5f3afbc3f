export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * The wait before the next attempt after `attempts` failed ones: exponential
 * (base, 2 x base, 4 x base ...) capped at max, with "equal jitter" (a random
 * point in the upper half) so jobs that failed together do not come back
 * together. A provider's Retry-After is honoured when longer, within max.
 */
export function backoffMs(policy: BackoffPolicy, attempts: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.round(Math.min(policy.maxMs, Math.max(jittered, retryAfterMs ?? 0)));
}
