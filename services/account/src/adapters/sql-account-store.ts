import { isUniqueViolation, type Db } from "@parley/relational";
import { UsernameTaken } from "../errors.js";
import * as blocks from "./sql-blocks.js";
import * as moderation from "./sql-moderation.js";
import * as pushTokens from "./sql-push-tokens.js";
import type {
  AccountStore,
  BlockEntry,
  BlockOutcome,
  Device,
  LiveSessionEntry,
  EndedSession,
  FriendEntry,
  FriendState,
  PasswordChangeOutcome,
  PushToken,
  PushTokenOutcome,
  RefreshRecord,
  SessionRecord,
  User,
} from "../ports.js";
import { DEFAULT_SETTINGS, type SettingsRecord } from "../domain/settings.js";
import {
  DEVICE_COLUMNS,
  SESSION_COLUMNS,
  toDevice,
  toSession,
  toUser,
  USER_COLUMNS,
  type DeviceRow,
  type SessionRow,
  type SettingsRow,
  type UserRow,
} from "./sql-account-rows.js";

/** The account store on Postgres (the embedded SQLite has its own adapter in sqlite/). */
export class SqlAccountStore implements AccountStore {
  constructor(private readonly db: Db) {}

  async createUser(username: string, displayName: string, passwordHash: string): Promise<User> {
    try {
      const { rows } = await this.db.query<UserRow>(`INSERT INTO users (username, display_name, password_hash) VALUES ($1, $2, $3) RETURNING ${USER_COLUMNS}`, [
        username,
        displayName,
        passwordHash,
      ]);
      return toUser(rows[0]!);
    } catch (err) {
      if (isUniqueViolation(err)) throw new UsernameTaken(username);
      throw err;
    }
  }

  async findUserByName(username: string): Promise<User | undefined> {
    const { rows } = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE username = $1`, [username]);
    return rows[0] && toUser(rows[0]);
  }

  async findUserById(id: bigint): Promise<User | undefined> {
    const { rows } = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id.toString()]);
    return rows[0] && toUser(rows[0]);
  }

  async findUsersByIds(ids: readonly bigint[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ANY($1::bigint[])`, [ids.map(String)]);
    return rows.map(toUser);
  }

  async updateDisplayName(id: bigint, displayName: string): Promise<User | undefined> {
    const { rows } = await this.db.query<UserRow>(`UPDATE users SET display_name = $2 WHERE id = $1 RETURNING ${USER_COLUMNS}`, [id.toString(), displayName]);
    return rows[0] && toUser(rows[0]);
  }

  async upsertDevice(userId: bigint, deviceId: bigint | undefined, name: string): Promise<Device | undefined> {
    const { rows } =
      deviceId === undefined
        ? await this.db.query<{ id: string }>("INSERT INTO devices (user_id, name) VALUES ($1, $2) RETURNING id", [userId.toString(), name])
        : await this.db.query<{ id: string }>("UPDATE devices SET name = $3, last_seen_at = now() WHERE id = $1 AND user_id = $2 RETURNING id", [
            deviceId.toString(),
            userId.toString(),
            name,
          ]);
    return rows[0] && this.findDevice(BigInt(rows[0].id));
  }

  async listDevices(userId: bigint): Promise<Device[]> {
    const { rows } = await this.db.query<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices d WHERE d.user_id = $1 ORDER BY d.id`, [userId.toString()]);
    return rows.map(toDevice);
  }

  async startSession(userId: bigint, deviceId: bigint, refresh: RefreshRecord): Promise<{ session: SessionRecord; replaced: bigint[] }> {
    return this.db.transaction(async (tx) => {
      const replaced = await tx.query<{ id: string }>("UPDATE sessions SET revoked_at = now() WHERE device_id = $1 AND revoked_at IS NULL RETURNING id", [
        deviceId.toString(),
      ]);
      const inserted = await tx.query<SessionRow>(
        `INSERT INTO sessions (user_id, device_id, handle, refresh_hash, refresh_expires_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${SESSION_COLUMNS}`,
        [userId.toString(), deviceId.toString(), refresh.handle, refresh.hash, refresh.expiresAt],
      );
      await tx.query("UPDATE devices SET last_seen_at = now() WHERE id = $1", [deviceId.toString()]);
      return { session: toSession(inserted.rows[0]!), replaced: replaced.rows.map((row) => BigInt(row.id)) };
    });
  }

  async findSessions(ids: readonly bigint[]): Promise<SessionRecord[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ANY($1::bigint[])`, [ids.map(String)]);
    return rows.map(toSession);
  }

  async findSessionByHandle(handle: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.db.query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE handle = $1`, [handle]);
    return rows[0] && toSession(rows[0]);
  }

  async rotateRefresh(id: bigint, expectedHash: string, next: RefreshRecord, keepUsed: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE sessions SET handle = $3, refresh_hash = $4, refresh_expires_at = $5,
         used_refresh_hashes = (array_prepend($2::text, used_refresh_hashes))[1:$6]
       WHERE id = $1 AND refresh_hash = $2 AND revoked_at IS NULL`,
      [id.toString(), expectedHash, next.handle, next.hash, next.expiresAt, keepUsed],
    );
    if (rowCount > 0) {
      await this.db.query("UPDATE devices SET last_seen_at = now() FROM sessions s WHERE s.id = $1 AND devices.id = s.device_id", [id.toString()]);
    }
    return rowCount > 0;
  }

  async logOutDevice(userId: bigint, deviceId: bigint): Promise<bigint[] | undefined> {
    return this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query("UPDATE devices SET push_platform = 0, push_token = NULL, push_web = NULL WHERE id = $1 AND user_id = $2", [
        deviceId.toString(),
        userId.toString(),
      ]);
      if (rowCount === 0) return undefined;
      const { rows } = await tx.query<{ id: string }>("UPDATE sessions SET revoked_at = now() WHERE device_id = $1 AND revoked_at IS NULL RETURNING id", [
        deviceId.toString(),
      ]);
      return rows.map((row) => BigInt(row.id));
    });
  }

  async logOutLeastRecentlyUsed(userId: bigint, keep: bigint, max: number): Promise<EndedSession[]> {
    return this.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley.devices.' || $1))", [userId.toString()]);
      const { rows } = await tx.query<{ id: string }>(
        `SELECT d.id FROM devices d
         WHERE d.user_id = $1 AND EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = d.id AND s.revoked_at IS NULL)
         ORDER BY d.id = $2 DESC, d.last_seen_at DESC, d.id DESC OFFSET $3`,
        [userId.toString(), keep.toString(), max],
      );
      const evicted = rows.map((row) => row.id);
      if (evicted.length === 0) return [];
      await tx.query("UPDATE devices SET push_platform = 0, push_token = NULL, push_web = NULL WHERE id = ANY($1::bigint[])", [evicted]);
      const ended = await tx.query<{ id: string; device_id: string }>(
        "UPDATE sessions SET revoked_at = now() WHERE device_id = ANY($1::bigint[]) AND revoked_at IS NULL RETURNING id, device_id",
        [evicted],
      );
      return ended.rows.map((row) => ({ sessionId: BigInt(row.id), deviceId: BigInt(row.device_id) }));
    });
  }

  async revokeSession(id: bigint): Promise<boolean> {
    const { rowCount } = await this.db.query("UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", [id.toString()]);
    return rowCount > 0;
  }

  async changePassword(userId: bigint, keepSessionId: bigint, expectedHash: string, passwordHash: string): Promise<PasswordChangeOutcome> {
    const [user, keep] = [userId.toString(), keepSessionId.toString()];
    return this.db.transaction(async (tx): Promise<PasswordChangeOutcome> => {
      // The user's row first: password changes of one user run one at a time, and always take their locks in this order.
      const current = await tx.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1 FOR UPDATE", [user]);
      if (current.rows[0]?.password_hash !== expectedHash) return { status: "password_changed_meanwhile" };
      const caller = await tx.query("SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL", [keep, user]);
      if (caller.rowCount === 0) return { status: "session_ended" };
      await tx.query("UPDATE users SET password_hash = $2 WHERE id = $1", [user, passwordHash]);
      const { rows } = await tx.query<{ id: string; device_id: string }>(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL RETURNING id, device_id",
        [user, keep],
      );
      return { status: "changed", ended: rows.map((row) => ({ sessionId: BigInt(row.id), deviceId: BigInt(row.device_id) })) };
    });
  }

  async addFriend(userId: bigint, otherId: bigint): Promise<"friends" | "request_sent"> {
    const [me, other] = [userId.toString(), otherId.toString()];
    return this.db.transaction(async (tx) => {
      // One lock per pair: crossed requests at the same moment serialise here.
      const [low, high] = userId < otherId ? [me, other] : [other, me];
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley.friends.' || $1 || '.' || $2))", [low, high]);
      const already = await tx.query("SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = $2", [me, other]);
      if (already.rowCount > 0) return "friends";
      const accepted = await tx.query("DELETE FROM friend_requests WHERE from_id = $1 AND to_id = $2", [other, me]);
      if (accepted.rowCount > 0) {
        await tx.query("INSERT INTO friendships (user_id, friend_id) VALUES ($1, $2), ($2, $1)", [me, other]);
        return "friends";
      }
      await tx.query("INSERT INTO friend_requests (from_id, to_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [me, other]);
      return "request_sent";
    });
  }

  async removeFriend(userId: bigint, otherId: bigint): Promise<boolean> {
    const [me, other] = [userId.toString(), otherId.toString()];
    return this.db.transaction(async (tx) => {
      const friendships = await tx.query("DELETE FROM friendships WHERE (user_id = $1 AND friend_id = $2) OR (user_id = $2 AND friend_id = $1)", [me, other]);
      const requests = await tx.query("DELETE FROM friend_requests WHERE (from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1)", [me, other]);
      return friendships.rowCount + requests.rowCount > 0;
    });
  }

  async listFriends(userId: bigint): Promise<FriendEntry[]> {
    const { rows } = await this.db.query<UserRow & { state: FriendState; since: Date }>(
      `SELECT u.id, u.username, u.display_name, u.password_hash, u.created_at, x.state, x.since FROM (
         SELECT friend_id AS other, 'friends' AS state, since FROM friendships WHERE user_id = $1
         UNION ALL SELECT to_id, 'request_sent', created_at FROM friend_requests WHERE from_id = $1
         UNION ALL SELECT from_id, 'request_received', created_at FROM friend_requests WHERE to_id = $1
       ) x JOIN users u ON u.id = x.other ORDER BY u.username`,
      [userId.toString()],
    );
    return rows.map((row) => ({ user: toUser(row), state: row.state, since: row.since }));
  }

  async friendState(userId: bigint, otherId: bigint): Promise<FriendState | "none"> {
    const { rows } = await this.db.query<{ state: FriendState }>(
      `SELECT 'friends' AS state FROM friendships WHERE user_id = $1 AND friend_id = $2
       UNION ALL SELECT 'request_sent' FROM friend_requests WHERE from_id = $1 AND to_id = $2
       UNION ALL SELECT 'request_received' FROM friend_requests WHERE from_id = $2 AND to_id = $1`,
      [userId.toString(), otherId.toString()],
    );
    return rows[0]?.state ?? "none";
  }

  async friendIdsOf(userIds: readonly bigint[]): Promise<Map<bigint, bigint[]>> {
    const lists = new Map(userIds.map((id) => [id, [] as bigint[]]));
    if (userIds.length === 0) return lists;
    const { rows } = await this.db.query<{ user_id: string; friend_id: string }>(
      `SELECT f.user_id, f.friend_id FROM friendships f WHERE f.user_id = ANY($1::bigint[])
         AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = f.user_id AND b.blocked_id = f.friend_id)
                                                 OR (b.blocker_id = f.friend_id AND b.blocked_id = f.user_id))
       ORDER BY f.user_id, f.friend_id`,
      [[...lists.keys()].map(String)],
    );
    for (const row of rows) lists.get(BigInt(row.user_id))?.push(BigInt(row.friend_id));
    return lists;
  }

  block(userId: bigint, otherId: bigint, max: number): Promise<BlockOutcome> {
    return blocks.block(this.db, userId, otherId, max);
  }

  unblock(userId: bigint, otherId: bigint): Promise<boolean> {
    return blocks.unblock(this.db, userId, otherId);
  }

  listBlocked(userId: bigint): Promise<BlockEntry[]> {
    return blocks.listBlocked(this.db, userId);
  }

  blockState(userId: bigint, otherId: bigint): Promise<{ userBlocksOther: boolean; otherBlocksUser: boolean }> {
    return blocks.blockState(this.db, userId, otherId);
  }

  blockedWith(userId: bigint, userIds: readonly bigint[]): Promise<Set<bigint>> {
    return blocks.blockedWith(this.db, userId, userIds);
  }

  disableUser(userId: bigint): Promise<{ wasDisabled: boolean; ended: bigint[] } | undefined> {
    return moderation.disableUser(this.db, userId);
  }

  enableUser(userId: bigint): Promise<boolean | undefined> {
    return moderation.enableUser(this.db, userId);
  }

  disabledAt(userId: bigint): Promise<Date | undefined> {
    return moderation.disabledAt(this.db, userId);
  }

  liveSessions(userId: bigint): Promise<LiveSessionEntry[]> {
    return moderation.liveSessions(this.db, userId);
  }

  setPushToken(userId: bigint, deviceId: bigint, token: PushToken | undefined, now: Date): Promise<PushTokenOutcome> {
    return pushTokens.setPushToken(this.db, userId, deviceId, token, now);
  }

  pushTargets(userId: bigint): Promise<{ deviceId: bigint; token: PushToken }[]> {
    return pushTokens.pushTargets(this.db, userId);
  }

  removePushToken(deviceId: bigint, token: string): Promise<bigint | undefined> {
    return pushTokens.removePushToken(this.db, deviceId, token);
  }

  async getSettings(userId: bigint): Promise<SettingsRecord> {
    const { rows } = await this.db.query<SettingsRow>(
      `SELECT push_enabled, email_enabled, sms_enabled, show_previews, muted_conversation_ids::text[] AS muted,
              hide_presence, email, phone, preview_length, mute_mentions
       FROM user_settings WHERE user_id = $1`,
      [userId.toString()],
    );
    const row = rows[0];
    if (row === undefined) return { ...DEFAULT_SETTINGS, mutedConversationIds: [] };
    return {
      pushEnabled: row.push_enabled,
      emailEnabled: row.email_enabled,
      smsEnabled: row.sms_enabled,
      showPreviews: row.show_previews,
      mutedConversationIds: row.muted.map((id) => BigInt(id)),
      hidePresence: row.hide_presence,
      email: row.email,
      phone: row.phone,
      previewLength: row.preview_length,
      muteMentions: row.mute_mentions,
    };
  }

  async putSettings(userId: bigint, s: SettingsRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO user_settings (user_id, push_enabled, email_enabled, sms_enabled, show_previews, muted_conversation_ids, hide_presence, email, phone, preview_length, mute_mentions)
       VALUES ($1, $2, $3, $4, $5, $6::bigint[], $7, $8, $9, $10, $11)
       ON CONFLICT (user_id) DO UPDATE SET push_enabled = $2, email_enabled = $3, sms_enabled = $4, show_previews = $5,
         muted_conversation_ids = $6::bigint[], hide_presence = $7, email = $8, phone = $9, preview_length = $10,
         mute_mentions = $11`,
      [
        userId.toString(),
        s.pushEnabled,
        s.emailEnabled,
        s.smsEnabled,
        s.showPreviews,
        s.mutedConversationIds.map(String),
        s.hidePresence,
        s.email,
        s.phone,
        s.previewLength,
        s.muteMentions,
      ],
    );
  }

  async hidingPresence(userIds: readonly bigint[]): Promise<Set<bigint>> {
    if (userIds.length === 0) return new Set();
    const { rows } = await this.db.query<{ user_id: string }>("SELECT user_id FROM user_settings WHERE hide_presence AND user_id = ANY($1::bigint[])", [
      userIds.map(String),
    ]);
    return new Set(rows.map((row) => BigInt(row.user_id)));
  }

  private async findDevice(id: bigint): Promise<Device | undefined> {
    const { rows } = await this.db.query<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices d WHERE d.id = $1`, [id.toString()]);
    return rows[0] && toDevice(rows[0]);
  }
}
