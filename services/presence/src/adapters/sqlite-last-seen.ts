import type { Procedures, SqliteEngine } from "@parley/relational";
import type { LastSeenStore } from "../ports.js";
import { presenceSqliteMigrations } from "./sqlite-migrations.js";

type LastSeenProcedures = Procedures<typeof import("./sqlite-last-seen-procedures.js")>;

/**
 * Last-seen times on the embedded SQLite engine (table `last_seen`, see
 * presenceSqliteMigrations). Each method is one call of a procedure in
 * sqlite-last-seen-procedures.ts, so one transaction; the engine runs calls
 * one at a time, so concurrent saves of one user cannot interleave.
 */
export class SqliteLastSeenStore implements LastSeenStore {
  private readonly procedures: LastSeenProcedures;

  private constructor(engine: SqliteEngine) {
    this.procedures = engine.procedures<typeof import("./sqlite-last-seen-procedures.js")>(new URL("./sqlite-last-seen-procedures.js", import.meta.url));
  }

  /** Brings the schema up to date, then returns the store. */
  static async open(engine: SqliteEngine): Promise<SqliteLastSeenStore> {
    await engine.migrate("presence", presenceSqliteMigrations);
    return new SqliteLastSeenStore(engine);
  }

  async load(userIds: readonly bigint[]): Promise<Map<bigint, number>> {
    if (userIds.length === 0) return new Map();
    return new Map(await this.procedures.load(userIds));
  }

  async save(userId: bigint, ms: number): Promise<void> {
    // Whole milliseconds as a Date keeps them (the Postgres adapter stores `new Date(ms)`); a time no Date can hold is refused.
    const at = new Date(ms).getTime();
    if (Number.isNaN(at)) throw new RangeError(`last seen time must be milliseconds since the epoch, got ${ms}`);
    await this.procedures.save(userId, at);
  }
}
