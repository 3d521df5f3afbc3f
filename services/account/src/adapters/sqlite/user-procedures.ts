import type { SqliteConnection } from "@parley/relational";
import type { User } from "../../ports.js";
import { toUser, USER_COLUMNS, type UserRow } from "./sqlite-account-rows.js";

/**
 * Users, as SQLite procedures (run in the engine's worker, each in a
 * transaction of its own). Usernames arrive in their stored lower-case form
 * and compare exactly (BINARY), as text compares in Postgres; a duplicate
 * throws SQLite's unique violation, which the adapter turns into UsernameTaken.
 */

export function createUser(db: SqliteConnection, username: string, displayName: string, passwordHash: string, now: number): User {
  const row = db.get<UserRow>(`INSERT INTO users (username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING ${USER_COLUMNS}`, [
    username,
    displayName,
    passwordHash,
    now,
  ]);
  return toUser(row!);
}

export function findUserByName(db: SqliteConnection, username: string): User | undefined {
  const row = db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`, [username]);
  return row && toUser(row);
}

export function findUserById(db: SqliteConnection, id: bigint): User | undefined {
  const row = db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]);
  return row && toUser(row);
}

/** Each user once, in id order, however often `ids` names them; unknown ids are left out. */
export function findUsersByIds(db: SqliteConnection, ids: readonly bigint[]): User[] {
  const users: User[] = [];
  for (const id of [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const row = db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]);
    if (row) users.push(toUser(row));
  }
  return users;
}

export function updateDisplayName(db: SqliteConnection, id: bigint, displayName: string): User | undefined {
  const row = db.get<UserRow>(`UPDATE users SET display_name = ? WHERE id = ? RETURNING ${USER_COLUMNS}`, [displayName, id]);
  return row && toUser(row);
}
