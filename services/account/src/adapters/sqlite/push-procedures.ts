import type { SqliteConnection } from "@parley/relational";
import type { PushToken, PushTokenOutcome } from "../../ports.js";

/**
 * Push tokens on devices, as SQLite procedures. A token is the FCM/APNs
 * token or the Web Push endpoint (push_token); a Web Push subscription's
 * keys are JSON in push_web. Where Postgres locks per token in
 * setPushToken, the worker's one-call-at-a-time order serialises already.
 */

export function setPushToken(db: SqliteConnection, userId: bigint, deviceId: bigint, token: PushToken | undefined, now: number): PushTokenOutcome {
  const [platform, value, web] =
    token === undefined
      ? [0, null, null]
      : token.platform === 3
        ? [3, token.endpoint, JSON.stringify({ p256dh: token.p256dh, auth: token.auth })]
        : [token.platform, token.token, null];
  if (!db.get("SELECT 1 FROM devices WHERE id = ? AND user_id = ?", [deviceId, userId])) return { status: "not_your_device" };
  if (value !== null) {
    const held = db.get(
      `SELECT 1 FROM devices d WHERE d.push_token = ? AND d.id <> ? AND d.user_id <> ?
         AND EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = d.id AND s.revoked_at IS NULL AND s.refresh_expires_at > ?)`,
      [value, deviceId, userId, now],
    );
    if (held) return { status: "taken" };
  }
  db.run("UPDATE devices SET push_platform = ?, push_token = ?, push_web = ? WHERE id = ?", [platform, value, web, deviceId]);
  if (value === null) return { status: "set", movedFrom: [] };
  const moved = db.all<{ user_id: bigint }>(
    "UPDATE devices SET push_platform = 0, push_token = NULL, push_web = NULL WHERE push_token = ? AND id <> ? RETURNING user_id",
    [value, deviceId],
  );
  return { status: "set", movedFrom: moved.map((row) => row.user_id) };
}

/** Logged-in devices of the user that have a push token, in device order. */
export function pushTargets(db: SqliteConnection, userId: bigint): { deviceId: bigint; token: PushToken }[] {
  const rows = db.all<{ id: bigint; push_platform: bigint; push_token: string; push_web: string | null }>(
    `SELECT d.id, d.push_platform, d.push_token, d.push_web FROM devices d
     WHERE d.user_id = ? AND d.push_platform <> 0 AND d.push_token IS NOT NULL
       AND EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = d.id AND s.revoked_at IS NULL)
     ORDER BY d.id`,
    [userId],
  );
  return rows.map((row) => {
    if (row.push_platform === 3n) {
      const keys = row.push_web === null ? undefined : (JSON.parse(row.push_web) as { p256dh: string; auth: string });
      return { deviceId: row.id, token: { platform: 3, endpoint: row.push_token, p256dh: keys?.p256dh ?? "", auth: keys?.auth ?? "" } };
    }
    return { deviceId: row.id, token: { platform: Number(row.push_platform) as 1 | 2, token: row.push_token } };
  });
}

/** Removes the device's token if it is still `token`; returns the device's user when it did. */
export function removePushToken(db: SqliteConnection, deviceId: bigint, token: string): bigint | undefined {
  return db.get<{ user_id: bigint }>(
    "UPDATE devices SET push_platform = 0, push_token = NULL, push_web = NULL WHERE id = ? AND push_token = ? RETURNING user_id",
    [deviceId, token],
  )?.user_id;
}
