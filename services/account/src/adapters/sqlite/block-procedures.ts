import type { SqliteConnection } from "@parley/relational";
import type { BlockEntry, BlockOutcome } from "../../ports.js";
import { toDate, toUser, type UserRow } from "./sqlite-account-rows.js";

/**
 * Blocks as SQLite procedures (the `blocks` table). Every call runs alone in
 * the worker, so the count and the insert of block() cannot interleave with
 * another block's.
 */

export function block(db: SqliteConnection, userId: bigint, otherId: bigint, max: number, now: number): BlockOutcome {
  if (db.get("SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?", [userId, otherId])) return "already";
  const row = db.get<{ n: bigint }>("SELECT count(*) AS n FROM blocks WHERE blocker_id = ?", [userId]);
  if (Number(row?.n ?? 0n) >= max) return "limit";
  db.run("INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?)", [userId, otherId, now]);
  return "blocked";
}

export function unblock(db: SqliteConnection, userId: bigint, otherId: bigint): boolean {
  return db.run("DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?", [userId, otherId]) > 0;
}

export function listBlocked(db: SqliteConnection, userId: bigint): BlockEntry[] {
  const rows = db.all<UserRow & { since: bigint }>(
    `SELECT u.id, u.username, u.display_name, u.password_hash, u.created_at, b.created_at AS since
     FROM blocks b JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = ? ORDER BY b.created_at DESC, u.id`,
    [userId],
  );
  return rows.map((row) => ({ user: toUser(row), since: toDate(row.since) }));
}

export function blockState(db: SqliteConnection, userId: bigint, otherId: bigint): { userBlocksOther: boolean; otherBlocksUser: boolean } {
  return {
    userBlocksOther: db.get("SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?", [userId, otherId]) !== undefined,
    otherBlocksUser: db.get("SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?", [otherId, userId]) !== undefined,
  };
}

export function blockedWith(db: SqliteConnection, userId: bigint, userIds: readonly bigint[]): bigint[] {
  const found: bigint[] = [];
  for (const id of new Set(userIds)) {
    if (db.get("SELECT 1 FROM blocks WHERE (blocker_id = ?1 AND blocked_id = ?2) OR (blocker_id = ?2 AND blocked_id = ?1)", [userId, id])) found.push(id);
  }
  return found;
}
