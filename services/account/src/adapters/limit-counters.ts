import type { Db } from "@parley/relational";
import { RateLimiterMemory, RateLimiterPostgres } from "rate-limiter-flexible";
import type { CounterFactory, CounterOptions } from "../ports.js";

/** The table the shared counters live in (migration 5; the library's own layout). */
export const LIMITS_TABLE = "account_auth_limits";

/**
 * Node's timers, which expire the in-memory counters, hold at most 2^31 - 1
 * ms (about 24.8 days); a longer duration would expire at once.
 */
const MAX_MEMORY_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * In this process's memory: the embedded mode, where one process is the
 * only account instance. Durations above 24 days are cut to 24 days.
 */
export function memoryCounters(): CounterFactory {
  return (options) => new RateLimiterMemory(inMemory(options));
}

function inMemory(options: CounterOptions): CounterOptions {
  return { ...options, duration: Math.min(options.duration, MAX_MEMORY_SECONDS) };
}

/**
 * In the shared SQL database, so that every account instance (and so every
 * gateway) sees the same counts: one upsert per change, atomic in the
 * database. Should the database fail a counter call, the limiter falls back
 * to an in-memory twin (the library's insuranceLimiter), so the limits still
 * hold per instance instead of failing every log-in; the log-in itself needs
 * the database anyway.
 */
export function sqlCounters(db: Db): CounterFactory {
  // RateLimiterPostgres speaks to a pg client's query({ text, values }); the
  // Db port gives the same on Postgres, within its transactions' rules.
  const client = { query: (q: { text: string; values?: unknown[] }) => db.query(q.text, q.values ?? []) };
  let sweeper = true;
  return (options) => {
    const limiter = new RateLimiterPostgres({
      ...options,
      storeClient: client,
      storeType: "client",
      tableName: LIMITS_TABLE,
      tableCreated: true, // by the account migrations, not at run time
      // One sweep of expired rows (every 5 minutes, by the library) is enough for the shared table.
      clearExpiredByTimeout: sweeper,
      insuranceLimiter: new RateLimiterMemory(inMemory(options)),
    });
    sweeper = false;
    return limiter;
  };
}
