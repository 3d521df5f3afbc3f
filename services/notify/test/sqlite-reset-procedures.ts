import type { SqliteConnection } from "@parley/relational";

/** Empties the notify tables and restarts their ids, like the Postgres suite's TRUNCATE ... RESTART IDENTITY. */
export function resetNotify(db: SqliteConnection): void {
  db.exec(`DELETE FROM notification_events;
DELETE FROM deliveries;
DELETE FROM notifications;
DELETE FROM sqlite_sequence WHERE name IN ('deliveries', 'notifications');`);
}
