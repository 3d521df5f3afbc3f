import { Code, ConnectError } from "@connectrpc/connect";
import type { BackoffOptions } from "@parley/runtime";

/** How a call is retried: attempts in all (the first included), and the backoff's first and largest delay. */
export interface RetryPolicy extends BackoffOptions {
  attempts: number;
}

/**
 * Six attempts, retries after about 0.5, 1, 2, 4 and 8 s (12 s in all on
 * average): enough to ride out a restart of the callee, short enough that a
 * hand-off does not hold its concurrency slot for long.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, initialMs: 500, maxMs: 30_000 };

/** Codes that say "try again later": the callee is down, overloaded or hit a bug that may pass. */
const TRANSIENT: ReadonlySet<Code> = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Internal, Code.ResourceExhausted, Code.Unknown]);

/** The status of a failure; errors from outside Connect (a store hiccup) count as UNKNOWN, so they are retried too. */
export function failureCode(err: unknown): Code {
  return ConnectError.from(err).code;
}

export function isTransient(code: Code): boolean {
  return TRANSIENT.has(code);
}
