import type { SqliteConnection } from "@parley/relational";

/** Empties the notify tables and restarts their ids, like the Postgres suite's TRUNCATE ... RESTART IDENTITY. */
export function resetNotify(db: SqliteConnection): void {
  db.exec(`DELETE FROM notification_events;
DELETE FROM deliveries;
DELETE FROM notifications;
DELETE FROM erased_events;
DELETE FROM sqlite_sequence WHERE name IN ('deliveries', 'notifications');`);
}

/** What the release before the collapse index wrote for a push: a pending delivery without the user and key columns. */
export function insertOldPendingPush(db: SqliteConnection, userId: bigint, collapseKey: string, deviceId: bigint, at: number): bigint {
  const row = db.get<{ id: bigint }>(
    `INSERT INTO notifications (event_id, user_id, kind, params, collapse_key, badge, created_at)
     VALUES ('old', ?, 'new_message', '{}', ?, 1, ?) RETURNING id`,
    [userId, collapseKey, at],
  )!;
  db.run(
    `INSERT INTO deliveries (notification_id, channel, target, device_id, state, next_attempt_at)
     VALUES (?, 'fcm', '{"channel":"fcm","token":"device-7"}', ?, 'pending', ?)`,
    [row.id, deviceId, at],
  );
  return row.id;
}
