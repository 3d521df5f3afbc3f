import type { Db } from "@parley/relational";
import type { LastSeenStore } from "../ports.js";

interface LastSeenRow {
  user_id: string;
  last_active_at: Date;
}

/**
 * Last-seen times on SQL (table `last_seen`, see presenceMigrations): runs
 * on Postgres (the embedded SQLite has its own adapter). GREATEST in the upsert is what keeps a
 * late or replayed save from moving a time backwards.
 */
export class SqlLastSeenStore implements LastSeenStore {
  constructor(private readonly db: Db) {}

  async load(userIds: readonly bigint[]): Promise<Map<bigint, number>> {
    if (userIds.length === 0) return new Map();
    const { rows } = await this.db.query<LastSeenRow>("SELECT user_id, last_active_at FROM last_seen WHERE user_id = ANY($1::bigint[])", [userIds.map(String)]);
    return new Map(rows.map((row) => [BigInt(row.user_id), row.last_active_at.getTime()]));
  }

  async save(userId: bigint, ms: number): Promise<void> {
    await this.db.query(
      `INSERT INTO last_seen (user_id, last_active_at) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET last_active_at = GREATEST(last_seen.last_active_at, EXCLUDED.last_active_at)`,
      [userId.toString(), new Date(ms)],
    );
  }
}
