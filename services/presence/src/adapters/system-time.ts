import type { Clock, Timers } from "../ports.js";

/**
 * The host's wall clock and Node's timers. Timers are not unref'd: the
 * server's sockets keep the process alive anyway, and `PresenceTracker.close`
 * clears every timer it set, so shutdown is not held up by them.
 */
export const systemTime: Clock & Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
