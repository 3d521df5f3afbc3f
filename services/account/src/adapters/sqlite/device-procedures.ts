import type { SqliteConnection } from "@parley/relational";
import type { Device, EndedSession } from "../../ports.js";
import { clearPushToken, revokeDeviceSessions, touchDevice } from "./device-statements.js";
import { DEVICE_COLUMNS, toDevice, type DeviceRow } from "./sqlite-account-rows.js";

/**
 * Devices and logging them out, as SQLite procedures. Where Postgres takes
 * a lock per user for the device cap, the worker's one-call-at-a-time order
 * serialises concurrent log-ins already.
 */

export function upsertDevice(db: SqliteConnection, userId: bigint, deviceId: bigint | undefined, name: string, now: number): Device | undefined {
  let id: bigint;
  if (deviceId === undefined) {
    id = db.get<{ id: bigint }>("INSERT INTO devices (user_id, name, created_at, last_seen_at) VALUES (?, ?, ?, ?) RETURNING id", [userId, name, now, now])!.id;
  } else {
    if (db.run("UPDATE devices SET name = ? WHERE id = ? AND user_id = ?", [name, deviceId, userId]) === 0) return undefined;
    touchDevice(db, deviceId, now);
    id = deviceId;
  }
  return findDevice(db, id);
}

export function listDevices(db: SqliteConnection, userId: bigint): Device[] {
  return db.all<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices d WHERE d.user_id = ? ORDER BY d.id`, [userId]).map(toDevice);
}

/** Revokes the device's live sessions and forgets its push token; undefined when it is not the user's device. */
export function logOutDevice(db: SqliteConnection, userId: bigint, deviceId: bigint, now: number): bigint[] | undefined {
  if (!db.get("SELECT 1 FROM devices WHERE id = ? AND user_id = ?", [deviceId, userId])) return undefined;
  clearPushToken(db, deviceId);
  return revokeDeviceSessions(db, deviceId, now).map((ended) => ended.sessionId);
}

/** Logs out the user's logged-in devices beyond the `max` used most recently, `keep` counted first. */
export function logOutLeastRecentlyUsed(db: SqliteConnection, userId: bigint, keep: bigint, max: number, now: number): EndedSession[] {
  const evicted = db.all<{ id: bigint }>(
    `SELECT d.id FROM devices d
     WHERE d.user_id = ? AND EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = d.id AND s.revoked_at IS NULL)
     ORDER BY d.id = ? DESC, d.last_seen_at DESC, d.id DESC LIMIT -1 OFFSET ?`,
    [userId, keep, max],
  );
  const ended: EndedSession[] = [];
  for (const { id } of evicted) {
    clearPushToken(db, id);
    ended.push(...revokeDeviceSessions(db, id, now));
  }
  return ended;
}

function findDevice(db: SqliteConnection, id: bigint): Device | undefined {
  const row = db.get<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices d WHERE d.id = ?`, [id]);
  return row && toDevice(row);
}
