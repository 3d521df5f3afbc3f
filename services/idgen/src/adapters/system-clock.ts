import type { Clock } from "../ports.js";

/**
 * The host's wall clock. Not a monotonic clock on purpose: IDs carry calendar
 * time, so they must follow the wall clock, and the generator copes with the
 * wall clock's steps backwards.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
};
