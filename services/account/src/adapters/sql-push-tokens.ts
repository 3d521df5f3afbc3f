import type { Db } from "@parley/relational";
import type { PushToken, PushTokenOutcome } from "../ports.js";

/**
 * Devices' push tokens on Postgres, for SqlAccountStore: a token belongs to
 * one device at a time, and only a device with a live session is a target.
 */

export async function setPushToken(db: Db, userId: bigint, deviceId: bigint, token: PushToken | undefined, now: Date): Promise<PushTokenOutcome> {
  const [platform, value, web] =
    token === undefined
      ? [0, null, null]
      : token.platform === 3
        ? [3, token.endpoint, JSON.stringify({ p256dh: token.p256dh, auth: token.auth })]
        : [token.platform, token.token, null];
  const [device, user] = [deviceId.toString(), userId.toString()];
  return db.transaction(async (tx) => {
    const mine = await tx.query("SELECT 1 FROM devices WHERE id = $1 AND user_id = $2", [device, user]);
    if (mine.rowCount === 0) return { status: "not_your_device" }; // take the token from nobody
    if (value !== null) {
      // One registration of a token at a time: two users racing for it cannot both see it free.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley.push.' || $1))", [value]);
      const held = await tx.query(
        `SELECT 1 FROM devices d WHERE d.push_token = $1 AND d.id <> $2 AND d.user_id <> $3
           AND EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = d.id AND s.revoked_at IS NULL AND s.refresh_expires_at > $4)`,
        [value, device, user, now],
      );
      if (held.rowCount > 0) return { status: "taken" };
    }
    await tx.query("UPDATE devices SET push_platform = $3, push_token = $4, push_web = $5::jsonb WHERE id = $1 AND user_id = $2", [
      device,
      user,
      platform,
      value,
      web,
    ]);
    if (value === null) return { status: "set", movedFrom: [] };
    const moved = await tx.query<{ user_id: string }>(
      "UPDATE devices SET push_platform = 0, push_token = NULL, push_web = NULL WHERE push_token = $1 AND id <> $2 RETURNING user_id",
      [value, device],
    );
    return { status: "set", movedFrom: moved.rows.map((row) => BigInt(row.user_id)) };
  });
}

export async function pushTargets(db: Db, userId: bigint): Promise<{ deviceId: bigint; token: PushToken }[]> {
  const { rows } = await db.query<{ id: string; push_platform: number; push_token: string; push_web: { p256dh: string; auth: string } | null }>(
    `SELECT d.id, d.push_platform, d.push_token, d.push_web FROM devices d
     WHERE d.user_id = $1 AND d.push_platform <> 0 AND d.push_token IS NOT NULL
       AND EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = d.id AND s.revoked_at IS NULL)
     ORDER BY d.id`,
    [userId.toString()],
  );
  return rows.map((row) => ({
    deviceId: BigInt(row.id),
    token:
      row.push_platform === 3
        ? { platform: 3 as const, endpoint: row.push_token, p256dh: row.push_web?.p256dh ?? "", auth: row.push_web?.auth ?? "" }
        : { platform: row.push_platform as 1 | 2, token: row.push_token },
  }));
}

export async function removePushToken(db: Db, deviceId: bigint, token: string): Promise<bigint | undefined> {
  const { rows } = await db.query<{ user_id: string }>(
    "UPDATE devices SET push_platform = 0, push_token = NULL, push_web = NULL WHERE id = $1 AND push_token = $2 RETURNING user_id",
    [deviceId.toString(), token],
  );
  return rows[0] && BigInt(rows[0].user_id);
}
