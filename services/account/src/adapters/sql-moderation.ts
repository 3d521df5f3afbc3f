import type { Db } from "@parley/relational";
import type { LiveSessionEntry } from "../ports.js";

/** Moderation on Postgres (users.disabled_at, migration 6; the sessions), for SqlAccountStore. */

export function disableUser(db: Db, userId: bigint): Promise<{ wasDisabled: boolean; ended: bigint[] } | undefined> {
  const id = userId.toString();
  return db.transaction(async (tx) => {
    // The user's row first, as a password change takes it: the two never cross.
    const { rows } = await tx.query<{ disabled_at: Date | null }>("SELECT disabled_at FROM users WHERE id = $1 FOR UPDATE", [id]);
    if (rows[0] === undefined) return undefined;
    const wasDisabled = rows[0].disabled_at !== null;
    if (!wasDisabled) await tx.query("UPDATE users SET disabled_at = now() WHERE id = $1", [id]);
    const ended = await tx.query<{ id: string }>("UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id", [id]);
    return { wasDisabled, ended: ended.rows.map((row) => BigInt(row.id)) };
  });
}

export async function enableUser(db: Db, userId: bigint): Promise<boolean | undefined> {
  const { rows } = await db.query<{ was: boolean }>(
    "UPDATE users u SET disabled_at = NULL FROM users old WHERE u.id = $1 AND old.id = u.id RETURNING old.disabled_at IS NOT NULL AS was",
    [userId.toString()],
  );
  return rows[0]?.was;
}

export async function disabledAt(db: Db, userId: bigint): Promise<Date | undefined> {
  const { rows } = await db.query<{ disabled_at: Date | null }>("SELECT disabled_at FROM users WHERE id = $1", [userId.toString()]);
  return rows[0]?.disabled_at ?? undefined;
}

export async function liveSessions(db: Db, userId: bigint): Promise<LiveSessionEntry[]> {
  const { rows } = await db.query<{ id: string; device_id: string; name: string; created_at: Date; last_seen_at: Date }>(
    `SELECT s.id, s.device_id, d.name, s.created_at, d.last_seen_at FROM sessions s JOIN devices d ON d.id = s.device_id
     WHERE s.user_id = $1 AND s.revoked_at IS NULL ORDER BY s.id DESC`,
    [userId.toString()],
  );
  return rows.map((row) => ({
    sessionId: BigInt(row.id),
    deviceId: BigInt(row.device_id),
    deviceName: row.name,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  }));
}
