import type { Device, SessionRecord, User } from "../ports.js";

/**
 * Rows of the account tables as the SQL adapters read them, their column
 * lists and their mapping to domain records. int8 columns arrive as
 * decimal strings on both drivers (see packages/relational).
 */
export interface SettingsRow {
  push_enabled: boolean;
  email_enabled: boolean;
  sms_enabled: boolean;
  show_previews: boolean;
  muted: string[];
  hide_presence: boolean;
  email: string;
  phone: string;
  preview_length: number;
  mute_mentions: boolean;
}

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  created_at: Date;
}

export interface DeviceRow {
  id: string;
  user_id: string;
  name: string;
  push_platform: number;
  created_at: Date;
  last_seen_at: Date;
  logged_in: boolean;
}

export interface SessionRow {
  id: string;
  user_id: string;
  device_id: string;
  handle: string;
  refresh_hash: string;
  used_refresh_hashes: string[];
  refresh_expires_at: Date;
  revoked_at: Date | null;
}

export const SESSION_COLUMNS = "id, user_id, device_id, handle, refresh_hash, used_refresh_hashes, refresh_expires_at, revoked_at";

export const USER_COLUMNS = "id, username, display_name, password_hash, created_at";
export const DEVICE_COLUMNS = `d.id, d.user_id, d.name, d.push_platform, d.created_at, d.last_seen_at,
  EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = d.id AND s.revoked_at IS NULL) AS logged_in`;

export function toUser(row: UserRow): User {
  return {
    id: BigInt(row.id),
    username: row.username,
    displayName: row.display_name,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
  };
}

export function toDevice(row: DeviceRow): Device {
  return {
    id: BigInt(row.id),
    userId: BigInt(row.user_id),
    name: row.name,
    loggedIn: row.logged_in,
    pushPlatform: row.push_platform,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  };
}

export function toSession(row: SessionRow): SessionRecord {
  return {
    id: BigInt(row.id),
    userId: BigInt(row.user_id),
    deviceId: BigInt(row.device_id),
    handle: row.handle,
    refreshHash: row.refresh_hash,
    usedRefreshHashes: row.used_refresh_hashes,
    refreshExpiresAt: row.refresh_expires_at,
    revoked: row.revoked_at !== null,
  };
}
