import type { Procedures, SqliteEngine } from "@parley/relational";
import type { Channel } from "../../../ports.js";
import type { DeliveryJob, JobStore, NewNotification, RateLimit, StoredNotification, TrackedEvent } from "../../../ports.js";
import { notifySqliteMigrations } from "./sqlite-migrations.js";

type JobProcedures = Procedures<typeof import("./job-procedures.js")>;

/**
 * The job store on the embedded SQLite engine (schema: notifySqliteMigrations).
 * Each method is one call of a procedure in job-procedures.ts, so one
 * transaction; the engine runs calls one at a time, which gives the
 * contract's "concurrent accepts of one event id store one notification"
 * and "concurrent leases never share a job" without locks. Dates cross as
 * milliseconds.
 */
export class SqliteJobStore implements JobStore {
  private readonly procedures: JobProcedures;

  private constructor(engine: SqliteEngine) {
    this.procedures = engine.procedures<typeof import("./job-procedures.js")>(new URL("./job-procedures.js", import.meta.url));
  }

  /** Brings the schema up to date, then returns the store. */
  static async open(engine: SqliteEngine): Promise<SqliteJobStore> {
    await engine.migrate("notify", notifySqliteMigrations);
    return new SqliteJobStore(engine);
  }

  accept(n: NewNotification, now: Date, rateLimit?: RateLimit): Promise<{ notification: StoredNotification; duplicate: boolean }> {
    return this.procedures.accept(n, now.getTime(), rateLimit);
  }

  async lease(now: Date, limit: number, leaseMs: number, channel?: Channel): Promise<{ job: DeliveryJob; notification: StoredNotification }[]> {
    if (limit <= 0) return [];
    return this.procedures.lease(now.getTime(), limit, leaseMs, channel ?? null);
  }

  markSent(jobId: bigint, now: Date): Promise<void> {
    return this.procedures.markSent(jobId, now.getTime());
  }

  markFailed(jobId: bigint, error: string, nextAttemptAt: Date, dead: boolean): Promise<void> {
    return this.procedures.markFailed(jobId, error, nextAttemptAt.getTime(), dead);
  }

  markRejected(jobId: bigint, error: string): Promise<void> {
    return this.procedures.markRejected(jobId, error);
  }

  async listDead(limit: number): Promise<DeliveryJob[]> {
    return this.procedures.listDead(checkLimit(limit));
  }

  retryDead(ids: bigint[] | undefined, now: Date): Promise<number> {
    return this.procedures.retryDead(ids, now.getTime());
  }

  get(notificationId: bigint): Promise<{ notification: StoredNotification; deliveries: DeliveryJob[] } | undefined> {
    return this.procedures.get(notificationId);
  }

  async listForUser(userId: bigint, limit: number): Promise<{ notification: StoredNotification; deliveries: DeliveryJob[] }[]> {
    return this.procedures.listForUser(userId, checkLimit(limit));
  }

  track(notificationId: bigint, deviceId: bigint, event: TrackedEvent, at: Date): Promise<boolean> {
    return this.procedures.track(notificationId, deviceId, event, at.getTime());
  }

  erase(eventIds: readonly string[], now: Date): Promise<number> {
    return this.procedures.erase([...eventIds], now.getTime());
  }

  depth(): Promise<Record<string, number>> {
    return this.procedures.depth();
  }
}

/** SQLite reads a negative LIMIT as "no limit" where Postgres refuses it: refuse it here too. */
function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number >= 0, got ${limit}`);
  return limit;
}
