import { openPostgresDb, type Db } from "@parley/relational";

/**
 * What autovacuum would do between runs, done by the bench when the
 * server's autovacuum is off (as on the CI machines' Postgres): without it
 * the tables have no statistics, so the store's statements, planned while
 * the tables were small, keep scanning them whole as they grow, and the
 * delivery outbox's deleted rows pile up under its overdue scan. A
 * production server vacuums and analyzes by itself; measuring without it
 * charged Parley for a database nobody runs (at `pairs-max`, 308 µs of
 * Postgres CPU per message before, 146 after one VACUUM ANALYZE).
 */
export class DatabaseUpkeep {
  private constructor(
    private readonly db: Db,
    /** Whether the server vacuums by itself; if so, the bench does nothing. */
    readonly autovacuum: boolean,
  ) {}

  static async open(url: string): Promise<DatabaseUpkeep> {
    const db = await openPostgresDb({ url, maxConnections: 1 });
    const { rows } = await db.query<{ autovacuum: string }>("SHOW autovacuum");
    return new DatabaseUpkeep(db, rows[0]?.autovacuum === "on");
  }

  /** Before a run: VACUUM ANALYZE when the server would not; the statistics change makes the services plan their statements again. */
  async beforeRun(): Promise<void> {
    if (!this.autovacuum) await this.db.query("VACUUM ANALYZE");
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
