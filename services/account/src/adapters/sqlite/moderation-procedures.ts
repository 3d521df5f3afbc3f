import type { SqliteConnection } from "@parley/relational";
import type { LiveSessionEntry } from "../../ports.js";
import { toDate } from "./sqlite-account-rows.js";

/** Moderation as SQLite procedures (users.disabled_at; the sessions); each call is one transaction, alone in the worker. */

export function disableUser(db: SqliteConnection, userId: bigint, now: number): { wasDisabled: boolean; ended: bigint[] } | undefined {
  const row = db.get<{ disabled_at: bigint | null }>("SELECT disabled_at FROM users WHERE id = ?", [userId]);
  if (row === undefined) return undefined;
  const wasDisabled = row.disabled_at !== null;
  if (!wasDisabled) db.run("UPDATE users SET disabled_at = ? WHERE id = ?", [now, userId]);
  const ended = db.all<{ id: bigint }>("SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL", [userId]).map((r) => r.id);
  db.run("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", [now, userId]);
  return { wasDisabled, ended };
}

export function enableUser(db: SqliteConnection, userId: bigint): boolean | undefined {
  const row = db.get<{ disabled_at: bigint | null }>("SELECT disabled_at FROM users WHERE id = ?", [userId]);
  if (row === undefined) return undefined;
  db.run("UPDATE users SET disabled_at = NULL WHERE id = ?", [userId]);
  return row.disabled_at !== null;
}

export function disabledAt(db: SqliteConnection, userId: bigint): number | undefined {
  const row = db.get<{ disabled_at: bigint | null }>("SELECT disabled_at FROM users WHERE id = ?", [userId]);
  return row?.disabled_at == null ? undefined : Number(row.disabled_at);
}

export function liveSessions(db: SqliteConnection, userId: bigint): LiveSessionEntry[] {
  const rows = db.all<{ id: bigint; device_id: bigint; name: string; created_at: bigint; last_seen_at: bigint }>(
    `SELECT s.id, s.device_id, d.name, s.created_at, d.last_seen_at FROM sessions s JOIN devices d ON d.id = s.device_id
     WHERE s.user_id = ? AND s.revoked_at IS NULL ORDER BY s.id DESC`,
    [userId],
  );
  return rows.map((row) => ({
    sessionId: row.id,
    deviceId: row.device_id,
    deviceName: row.name,
    createdAt: toDate(row.created_at),
    lastSeenAt: toDate(row.last_seen_at),
  }));
}
