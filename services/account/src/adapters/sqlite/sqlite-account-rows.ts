import type { Device, SessionRecord, User } from "../../ports.js";

/**
 * Rows of the account tables as the SQLite procedures read them, their
 * column lists and their mapping to domain records. Integers arrive as
 * bigint (the engine reads them so), timestamps as epoch milliseconds.
 * Loaded in the SQLite worker: pure, and only type imports.
 */
export interface UserRow {
  id: bigint;
  username: string;
  display_name: string;
  password_hash: string;
  created_at: bigint;
}

export interface DeviceRow {
  id: bigint;
  user_id: bigint;
  name: string;
  push_platform: bigint;
  created_at: bigint;
  last_seen_at: bigint;
  logged_in: bigint;
}

export interface SessionRow {
  id: bigint;
  user_id: bigint;
  device_id: bigint;
  handle: string;
  refresh_hash: string;
  used_refresh_hashes: string;
  refresh_expires_at: bigint;
  revoked_at: bigint | null;
}

export const USER_COLUMNS = "id, username, display_name, password_hash, created_at";
export const SESSION_COLUMNS = "id, user_id, device_id, handle, refresh_hash, used_refresh_hashes, refresh_expires_at, revoked_at";
export const DEVICE_COLUMNS = `d.id, d.user_id, d.name, d.push_platform, d.created_at, d.last_seen_at,
  EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = d.id AND s.revoked_at IS NULL) AS logged_in`;

export const toDate = (ms: bigint): Date => new Date(Number(ms));

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    passwordHash: row.password_hash,
    createdAt: toDate(row.created_at),
  };
}

export function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    loggedIn: row.logged_in === 1n,
    pushPlatform: Number(row.push_platform),
    createdAt: toDate(row.created_at),
    lastSeenAt: toDate(row.last_seen_at),
  };
}

export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    deviceId: row.device_id,
    handle: row.handle,
    refreshHash: row.refresh_hash,
    usedRefreshHashes: JSON.parse(row.used_refresh_hashes) as string[],
    refreshExpiresAt: toDate(row.refresh_expires_at),
    revoked: row.revoked_at !== null,
  };
}
