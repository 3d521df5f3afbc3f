import { setTimeout as sleep } from "node:timers/promises";

export interface UntilOptions {
  /**
   * How long to keep trying before failing. Default 20 s: generous, because
   * tests share a small machine with other test processes and servers, and
   * the bound only decides how long a broken test takes to fail.
   */
  timeoutMs?: number;
  /** The pause between checks. Default 20 ms. */
  intervalMs?: number;
}

/**
 * Polls `check` until it returns something other than `false` or
 * `undefined` and resolves with that: `true` for a condition, or the value
 * looked for (a row, a message). Past the deadline it fails with "timed out
 * after N ms waiting for <what>"; `what` may be a function, asked only then,
 * so the message can say what was seen by that time.
 *
 * For waiting on work on the other side of a stream, socket or process; a
 * check that throws fails the wait at once.
 */
export async function until<T>(
  check: () => T | false | undefined | Promise<T | false | undefined>,
  what: string | (() => string),
  { timeoutMs = 20_000, intervalMs = 20 }: UntilOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
    await sleep(intervalMs);
  }
}
