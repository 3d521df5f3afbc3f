import { backoffDelayMs, type BackoffOptions } from "@parley/runtime";

/**
 * The wait before the next attempt after `attempts` failed ones: the shared
 * backoff (base, 2 x base, 4 x base ... capped at max, equal jitter) so jobs
 * that failed together do not come back together, or a provider's
 * Retry-After when that is longer, within max.
 */
export function retryDelayMs(backoff: BackoffOptions, attempts: number, retryAfterMs: number | undefined): number {
  return Math.min(backoff.maxMs, Math.max(backoffDelayMs(attempts - 1, backoff), Math.round(retryAfterMs ?? 0)));
}
