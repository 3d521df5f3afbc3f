import type { SqliteConnection } from "@parley/relational";
import type { EndedSession } from "../../ports.js";

/**
 * Statements more than one procedure module runs on devices and their
 * sessions. Plain functions, not procedures: they run inside the calling
 * procedure's transaction. Loaded in the SQLite worker.
 */

/**
 * Marks the device as used at `now`, and strictly after every earlier use
 * of any of the user's devices. Postgres stamps uses with now() in
 * microseconds, so two uses never tie in practice; milliseconds tie often
 * (a log-in and a refresh in the same millisecond), and a tie would let the
 * device cap evict the device used last. Calls run one at a time here, so
 * "one past the user's latest" is the true order of use; it runs ahead of
 * the clock only while one user's devices are used more than once a
 * millisecond.
 */
export function touchDevice(db: SqliteConnection, deviceId: bigint, now: number): void {
  db.run(
    `UPDATE devices SET last_seen_at = max(?, (SELECT max(o.last_seen_at) + 1 FROM devices o WHERE o.user_id = devices.user_id))
     WHERE id = ?`,
    [now, deviceId],
  );
}

/** Revokes the device's live sessions; returns them. */
export function revokeDeviceSessions(db: SqliteConnection, deviceId: bigint, now: number): EndedSession[] {
  return db
    .all<{ id: bigint; device_id: bigint }>("UPDATE sessions SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL RETURNING id, device_id", [
      now,
      deviceId,
    ])
    .map((row) => ({ sessionId: row.id, deviceId: row.device_id }));
}

/** Forgets the device's push token (a logged-out device is no push target). */
export function clearPushToken(db: SqliteConnection, deviceId: bigint): void {
  db.run("UPDATE devices SET push_platform = 0, push_token = NULL, push_web = NULL WHERE id = ?", [deviceId]);
}
