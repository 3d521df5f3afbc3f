import type { SqliteConnection } from "@parley/relational";
import type { PasswordChangeOutcome, SessionRecord } from "../../ports.js";
import { revokeDeviceSessions, touchDevice } from "./device-statements.js";
import { SESSION_COLUMNS, toSession, type SessionRow } from "./sqlite-account-rows.js";

/**
 * Sessions, their refresh tokens and password changes, as SQLite
 * procedures. Where Postgres locks the user's row (changePassword), the
 * worker's one-call-at-a-time order gives the same serialisation.
 */

/** A refresh token as the adapter hands it over: the expiry in epoch ms. */
export interface RefreshArgs {
  handle: string;
  hash: string;
  expiresAt: number;
}

export function startSession(
  db: SqliteConnection,
  userId: bigint,
  deviceId: bigint,
  refresh: RefreshArgs,
  now: number,
): { session: SessionRecord; replaced: bigint[] } {
  const replaced = revokeDeviceSessions(db, deviceId, now).map((ended) => ended.sessionId);
  const row = db.get<SessionRow>(
    `INSERT INTO sessions (user_id, device_id, handle, refresh_hash, refresh_expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)
     RETURNING ${SESSION_COLUMNS}`,
    [userId, deviceId, refresh.handle, refresh.hash, refresh.expiresAt, now],
  );
  touchDevice(db, deviceId, now);
  return { session: toSession(row!), replaced };
}

/** One indexed lookup per id, all in this one call to the worker. */
export function findSessions(db: SqliteConnection, ids: readonly bigint[]): SessionRecord[] {
  return ids.flatMap((id) => {
    const row = db.get<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`, [id]);
    return row ? [toSession(row)] : [];
  });
}

export function findSessionByHandle(db: SqliteConnection, handle: string): SessionRecord | undefined {
  const row = db.get<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE handle = ?`, [handle]);
  return row && toSession(row);
}

/** See AccountStore.rotateRefresh: one winner per refresh token, the used hashes newest first, at most `keepUsed`. */
export function rotateRefresh(db: SqliteConnection, id: bigint, expectedHash: string, next: RefreshArgs, keepUsed: number, now: number): boolean {
  const current = db.get<{ device_id: bigint; used_refresh_hashes: string }>(
    "SELECT device_id, used_refresh_hashes FROM sessions WHERE id = ? AND refresh_hash = ? AND revoked_at IS NULL",
    [id, expectedHash],
  );
  if (current === undefined) return false;
  // As Postgres's array slice [1:keepUsed]: nothing is kept when keepUsed is 0 or less.
  const used = [expectedHash, ...(JSON.parse(current.used_refresh_hashes) as string[])].slice(0, Math.max(0, keepUsed));
  db.run("UPDATE sessions SET handle = ?, refresh_hash = ?, refresh_expires_at = ?, used_refresh_hashes = ? WHERE id = ?", [
    next.handle,
    next.hash,
    next.expiresAt,
    JSON.stringify(used),
    id,
  ]);
  touchDevice(db, current.device_id, now);
  return true;
}

export function revokeSession(db: SqliteConnection, id: bigint, now: number): boolean {
  return db.run("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now, id]) > 0;
}

export function changePassword(
  db: SqliteConnection,
  userId: bigint,
  keepSessionId: bigint,
  expectedHash: string,
  passwordHash: string,
  now: number,
): PasswordChangeOutcome {
  const current = db.get<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = ?", [userId]);
  if (current?.password_hash !== expectedHash) return { status: "password_changed_meanwhile" };
  if (!db.get("SELECT 1 FROM sessions WHERE id = ? AND user_id = ? AND revoked_at IS NULL", [keepSessionId, userId])) return { status: "session_ended" };
  db.run("UPDATE users SET password_hash = ? WHERE id = ?", [passwordHash, userId]);
  const ended = db.all<{ id: bigint; device_id: bigint }>(
    "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL RETURNING id, device_id",
    [now, userId, keepSessionId],
  );
  return { status: "changed", ended: ended.map((row) => ({ sessionId: row.id, deviceId: row.device_id })) };
}
