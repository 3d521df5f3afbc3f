/**
 * The last-seen store's procedures, run in the SQLite worker, each call in
 * a transaction of its own.
 */
import type { SqliteConnection } from "@parley/relational";

/** The stored times of the users that have one, as [userId, ms] pairs (a Map would cross the thread too, but pairs are cheaper to clone). */
export function load(db: SqliteConnection, userIds: readonly bigint[]): [bigint, number][] {
  // One prepared single-row lookup per id: the statement text stays constant, so SQLite's plan is reused.
  const found: [bigint, number][] = [];
  for (const userId of userIds) {
    const row = db.get<{ last_active_at: bigint }>("SELECT last_active_at FROM last_seen WHERE user_id = ?", [userId]);
    if (row !== undefined) found.push([userId, Number(row.last_active_at)]);
  }
  return found;
}

/** max() in the upsert keeps a late or replayed save from moving a time backwards. */
export function save(db: SqliteConnection, userId: bigint, ms: number): void {
  db.run(
    `INSERT INTO last_seen (user_id, last_active_at) VALUES (?, ?)
     ON CONFLICT (user_id) DO UPDATE SET last_active_at = max(last_active_at, excluded.last_active_at)`,
    [userId, ms],
  );
}
