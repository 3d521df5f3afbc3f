import type { Clock } from "../src/ports.js";
import { PARLEY_EPOCH_MS } from "../src/snowflake.js";

/**
 * A clock that moves only when told to. Its `sleep` advances it by the time
 * slept (as real time would) unless the clock is `stuck`, and records each
 * wait so tests can check how long the generator waited.
 */
export class FakeClock implements Clock {
  ms: number;
  stuck = false;
  readonly slept: number[] = [];

  constructor(start = PARLEY_EPOCH_MS + 1_000_000) {
    this.ms = start;
  }

  now(): number {
    return this.ms;
  }

  readonly sleep = async (ms: number): Promise<void> => {
    this.slept.push(ms);
    if (!this.stuck) this.ms += ms;
  };

  totalSlept(): number {
    return this.slept.reduce((sum, ms) => sum + ms, 0);
  }
}
