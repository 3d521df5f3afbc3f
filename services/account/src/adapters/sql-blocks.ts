import type { Db } from "@parley/relational";
import type { BlockEntry, BlockOutcome } from "../ports.js";
import { toUser, type UserRow } from "./sql-account-rows.js";

/**
 * Blocks on Postgres (the `blocks` table, migration 6), for SqlAccountStore.
 * One row per (blocker, blocked); a pair is looked up both ways.
 */

export function block(db: Db, userId: bigint, otherId: bigint, max: number): Promise<BlockOutcome> {
  const [me, other] = [userId.toString(), otherId.toString()];
  return db.transaction(async (tx) => {
    // One lock per blocker: two blocks at the same moment cannot both pass the limit.
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley.blocks.' || $1))", [me]);
    const already = await tx.query("SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2", [me, other]);
    if (already.rowCount > 0) return "already";
    const { rows } = await tx.query<{ n: string }>("SELECT count(*) AS n FROM blocks WHERE blocker_id = $1", [me]);
    if (Number(rows[0]!.n) >= max) return "limit";
    await tx.query("INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2)", [me, other]);
    return "blocked";
  });
}

export async function unblock(db: Db, userId: bigint, otherId: bigint): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2", [userId.toString(), otherId.toString()]);
  return rowCount > 0;
}

export async function listBlocked(db: Db, userId: bigint): Promise<BlockEntry[]> {
  const { rows } = await db.query<UserRow & { since: Date }>(
    `SELECT u.id, u.username, u.display_name, u.password_hash, u.created_at, b.created_at AS since
     FROM blocks b JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = $1 ORDER BY b.created_at DESC, u.id`,
    [userId.toString()],
  );
  return rows.map((row) => ({ user: toUser(row), since: row.since }));
}

export async function blockState(db: Db, userId: bigint, otherId: bigint): Promise<{ userBlocksOther: boolean; otherBlocksUser: boolean }> {
  const { rows } = await db.query<{ blocker_id: string }>(
    "SELECT blocker_id FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1)",
    [userId.toString(), otherId.toString()],
  );
  const blockers = new Set(rows.map((row) => BigInt(row.blocker_id)));
  return { userBlocksOther: blockers.has(userId), otherBlocksUser: blockers.has(otherId) };
}

export async function blockedWith(db: Db, userId: bigint, userIds: readonly bigint[]): Promise<Set<bigint>> {
  if (userIds.length === 0) return new Set();
  const { rows } = await db.query<{ other: string }>(
    `SELECT blocked_id AS other FROM blocks WHERE blocker_id = $1 AND blocked_id = ANY($2::bigint[])
     UNION SELECT blocker_id FROM blocks WHERE blocked_id = $1 AND blocker_id = ANY($2::bigint[])`,
    [userId.toString(), userIds.map(String)],
  );
  return new Set(rows.map((row) => BigInt(row.other)));
}
