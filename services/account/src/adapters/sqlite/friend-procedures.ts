import type { SqliteConnection } from "@parley/relational";
import type { FriendEntry, FriendState } from "../../ports.js";
import { toDate, toUser, type UserRow } from "./sqlite-account-rows.js";

/**
 * Friendships and friend requests, as SQLite procedures. Postgres takes a
 * lock per pair of users in addFriend; here every call runs alone in the
 * worker, so two users adding each other are serialised already.
 */

export function addFriend(db: SqliteConnection, userId: bigint, otherId: bigint, now: number): "friends" | "request_sent" {
  if (db.get("SELECT 1 FROM friendships WHERE user_id = ? AND friend_id = ?", [userId, otherId])) return "friends";
  if (db.run("DELETE FROM friend_requests WHERE from_id = ? AND to_id = ?", [otherId, userId]) > 0) {
    db.run("INSERT INTO friendships (user_id, friend_id, since) VALUES (?1, ?2, ?3), (?2, ?1, ?3)", [userId, otherId, now]);
    return "friends";
  }
  db.run("INSERT INTO friend_requests (from_id, to_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [userId, otherId, now]);
  return "request_sent";
}

export function removeFriend(db: SqliteConnection, userId: bigint, otherId: bigint): boolean {
  const friendships = db.run("DELETE FROM friendships WHERE (user_id = ?1 AND friend_id = ?2) OR (user_id = ?2 AND friend_id = ?1)", [userId, otherId]);
  const requests = db.run("DELETE FROM friend_requests WHERE (from_id = ?1 AND to_id = ?2) OR (from_id = ?2 AND to_id = ?1)", [userId, otherId]);
  return friendships + requests > 0;
}

/** Friends and requests either way, by username (byte order, as the C collation of Parley's Postgres databases). */
export function listFriends(db: SqliteConnection, userId: bigint): FriendEntry[] {
  const rows = db.all<UserRow & { state: FriendState; since: bigint }>(
    `SELECT u.id, u.username, u.display_name, u.password_hash, u.created_at, x.state, x.since FROM (
       SELECT friend_id AS other, 'friends' AS state, since FROM friendships WHERE user_id = ?1
       UNION ALL SELECT to_id, 'request_sent', created_at FROM friend_requests WHERE from_id = ?1
       UNION ALL SELECT from_id, 'request_received', created_at FROM friend_requests WHERE to_id = ?1
     ) x JOIN users u ON u.id = x.other ORDER BY u.username`,
    [userId],
  );
  return rows.map((row) => ({ user: toUser(row), state: row.state, since: toDate(row.since) }));
}

export function friendState(db: SqliteConnection, userId: bigint, otherId: bigint): FriendState | "none" {
  const row = db.get<{ state: FriendState }>(
    `SELECT 'friends' AS state FROM friendships WHERE user_id = ?1 AND friend_id = ?2
     UNION ALL SELECT 'request_sent' FROM friend_requests WHERE from_id = ?1 AND to_id = ?2
     UNION ALL SELECT 'request_received' FROM friend_requests WHERE from_id = ?2 AND to_id = ?1`,
    [userId, otherId],
  );
  return row?.state ?? "none";
}

/** One indexed scan per user, all in this one call to the worker; friends blocked either way are left out. */
export function friendIdsOf(db: SqliteConnection, userIds: readonly bigint[]): Map<bigint, bigint[]> {
  const lists = new Map<bigint, bigint[]>();
  for (const userId of userIds) {
    if (lists.has(userId)) continue;
    lists.set(
      userId,
      db
        .all<{ friend_id: bigint }>(
          `SELECT f.friend_id FROM friendships f WHERE f.user_id = ?1
             AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = ?1 AND b.blocked_id = f.friend_id) OR (b.blocker_id = f.friend_id AND b.blocked_id = ?1))
           ORDER BY f.friend_id`,
          [userId],
        )
        .map((row) => row.friend_id),
    );
  }
  return lists;
}
