import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { CounterFactory } from "../../ports.js";

export interface LockoutRule {
  /** Failures in a row that cost nothing; the one that reaches it starts the lockouts. */
  free: number;
  /** The first lockout (s); each further failure doubles it. */
  baseSeconds: number;
  /** The longest lockout (s): a lock never lasts longer than this after the last failure. */
  maxSeconds: number;
  /** How long (s) failures are remembered, from the first of them, when no success clears them. */
  windowSeconds: number;
}

/** A try counted against a key, to be settled once its outcome is known. */
export interface Counted {
  readonly key: string;
  /** Its place among the key's failures in a row (1 for the first try after a success). */
  readonly count: number;
}

/** Points a lock key holds while locked (a lock is a library block: points + 1). */
const LOCK_POINTS = 1;

/**
 * Failures in a row of one kind of key (a client address with a username, a
 * username, an address) and the exponential lockouts they earn: `free`
 * failures cost nothing; the failure that reaches `free` locks the key for
 * `baseSeconds`, and each one after it for twice as long as the one before,
 * up to `maxSeconds`. A success clears the count.
 *
 * Every try is counted before the password is checked, atomically in the
 * counters' store, so that a thousand tries sent at once cannot all slip
 * through before the first failure is recorded: past the free budget, a try
 * needs the key's one turn, which the store hands to exactly one caller when
 * the previous lock ends (a `consume` of one point, held for as long as the
 * lock that follows if this try fails too). Tries refused while locked are
 * not counted, so hammering a lock does not lengthen it.
 */
export class FailureLockout {
  private readonly failures: RateLimiterAbstract;
  private readonly locks: RateLimiterAbstract;

  constructor(
    name: string,
    private readonly rule: LockoutRule,
    counters: CounterFactory,
  ) {
    // `points` of the failure counter is not used as a limit: the count is compared with `free` here.
    this.failures = counters({ keyPrefix: `${name}_failures`, points: rule.free, duration: rule.windowSeconds });
    // Lock durations are given per call (a block or a turn); `duration` is only the library's default.
    this.locks = counters({ keyPrefix: `${name}_lock`, points: LOCK_POINTS, duration: rule.maxSeconds });
  }

  /** How long (ms) the key stays locked; 0 when it is not. */
  async lockedForMs(key: string): Promise<number> {
    const lock = await this.locks.get(key);
    return lock !== null && lock.consumedPoints > LOCK_POINTS ? Math.max(lock.msBeforeNext, 1) : 0;
  }

  /** Counts a try; refused (with the wait in ms) when it is past the free budget and another try holds the key's turn. */
  async count(key: string): Promise<Counted | { refusedForMs: number }> {
    const { consumedPoints: count } = await this.failures.penalty(key);
    if (count <= this.rule.free) return { key, count };
    try {
      await this.locks.consume(key, 1, { customDuration: this.lockSeconds(count) });
      return { key, count };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      await this.failures.reward(key);
      return { refusedForMs: Math.max(err.msBeforeNext, 1) };
    }
  }

  /** The try failed: locks the key when the failures reached the free budget. */
  async failed(tried: Counted): Promise<void> {
    if (tried.count >= this.rule.free) await this.locks.block(tried.key, this.lockSeconds(tried.count));
  }

  /** The try succeeded: the key's failures and lock are forgotten. */
  async succeeded(tried: Counted): Promise<void> {
    await Promise.all([this.failures.delete(tried.key), this.locks.delete(tried.key)]);
  }

  /** The try neither failed nor proved anything (an outage cut it short, or it does not count here): it is taken back. */
  async uncount(tried: Counted): Promise<void> {
    await this.failures.reward(tried.key);
    if (tried.count > this.rule.free) await this.locks.reward(tried.key);
  }

  /** The lock after the `count`th failure in a row (count >= free), in whole seconds (the SQL store keeps whole ms). */
  private lockSeconds(count: number): number {
    return Math.min(this.rule.maxSeconds, this.rule.baseSeconds * 2 ** Math.min(count - this.rule.free, 30));
  }
}
