import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { backoffDelayMs, type BackoffOptions } from "@parley/runtime";

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

/** How a call retried under a policy ended: its value, or its last failure (a code that is not transient, or the attempts spent). */
export type Retried<T> = { ok: true; value: T } | { ok: false; err: unknown; code: Code; attempts: number };

/**
 * Calls until the call succeeds, fails with a code that is not transient, or
 * the policy's attempts are spent, waiting the backoff between tries (a timer
 * that keeps no process alive). `retrying` hears of each failure about to be
 * tried again. Undefined once `signal` aborts: the caller is closing.
 */
export async function retried<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
  retrying: (code: Code, attempt: number) => void,
): Promise<Retried<T> | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await call() };
    } catch (err) {
      if (signal.aborted) return undefined;
      const code = failureCode(err);
      if (!isTransient(code) || attempt >= policy.attempts) return { ok: false, err, code, attempts: attempt };
      retrying(code, attempt);
    }
    try {
      await sleep(backoffDelayMs(attempt - 1, policy), undefined, { signal, ref: false });
    } catch {
      return undefined; // closed while waiting
    }
  }
}
