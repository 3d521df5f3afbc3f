import { isSqliteUniqueViolation, type Procedures, type SqliteEngine } from "@parley/relational";
import { UsernameTaken } from "../../errors.js";
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
} from "../../ports.js";
import { DEFAULT_SETTINGS, type SettingsRecord } from "../../domain/settings.js";
import type * as blockProcedures from "./block-procedures.js";
import type * as deviceProcedures from "./device-procedures.js";
import type * as moderationProcedures from "./moderation-procedures.js";
import type * as friendProcedures from "./friend-procedures.js";
import type * as pushProcedures from "./push-procedures.js";
import type * as sessionProcedures from "./session-procedures.js";
import type { RefreshArgs } from "./session-procedures.js";
import type * as settingsProcedures from "./settings-procedures.js";
import { accountSqliteMigrations } from "./sqlite-migrations.js";
import type * as userProcedures from "./user-procedures.js";

/**
 * The account store on the embedded SQLite engine. Every method is one
 * engine call, so one transaction, run alone in the engine's worker: the
 * serialisation Postgres gets from row and advisory locks (sign-ups, the
 * device cap, crossed friend requests, push token races) holds because no
 * two calls ever overlap. The clock is read here, on the calling thread,
 * where Postgres reads now() in the database.
 */
export class SqliteAccountStore implements AccountStore {
  private readonly users: Procedures<typeof userProcedures>;
  private readonly friends: Procedures<typeof friendProcedures>;
  private readonly blocks: Procedures<typeof blockProcedures>;
  private readonly moderation: Procedures<typeof moderationProcedures>;
  private readonly devices: Procedures<typeof deviceProcedures>;
  private readonly sessions: Procedures<typeof sessionProcedures>;
  private readonly push: Procedures<typeof pushProcedures>;
  private readonly settings: Procedures<typeof settingsProcedures>;

  private constructor(engine: SqliteEngine) {
    this.users = engine.procedures<typeof userProcedures>(new URL("./user-procedures.js", import.meta.url));
    this.friends = engine.procedures<typeof friendProcedures>(new URL("./friend-procedures.js", import.meta.url));
    this.blocks = engine.procedures<typeof blockProcedures>(new URL("./block-procedures.js", import.meta.url));
    this.moderation = engine.procedures<typeof moderationProcedures>(new URL("./moderation-procedures.js", import.meta.url));
    this.devices = engine.procedures<typeof deviceProcedures>(new URL("./device-procedures.js", import.meta.url));
    this.sessions = engine.procedures<typeof sessionProcedures>(new URL("./session-procedures.js", import.meta.url));
    this.push = engine.procedures<typeof pushProcedures>(new URL("./push-procedures.js", import.meta.url));
    this.settings = engine.procedures<typeof settingsProcedures>(new URL("./settings-procedures.js", import.meta.url));
  }

  /** The store on `engine`, its account schema brought up to date first. */
  static async open(engine: SqliteEngine): Promise<SqliteAccountStore> {
    await engine.migrate("account", accountSqliteMigrations);
    return new SqliteAccountStore(engine);
  }

  async createUser(username: string, displayName: string, passwordHash: string): Promise<User> {
    try {
      return await this.users.createUser(username, displayName, passwordHash, Date.now());
    } catch (err) {
      if (isSqliteUniqueViolation(err)) throw new UsernameTaken(username);
      throw err;
    }
  }

  findUserByName(username: string): Promise<User | undefined> {
    return this.users.findUserByName(username);
  }

  findUserById(id: bigint): Promise<User | undefined> {
    return this.users.findUserById(id);
  }

  async findUsersByIds(ids: readonly bigint[]): Promise<User[]> {
    if (ids.length === 0) return [];
    return this.users.findUsersByIds(ids);
  }

  updateDisplayName(id: bigint, displayName: string): Promise<User | undefined> {
    return this.users.updateDisplayName(id, displayName);
  }

  upsertDevice(userId: bigint, deviceId: bigint | undefined, name: string): Promise<Device | undefined> {
    return this.devices.upsertDevice(userId, deviceId, name, Date.now());
  }

  listDevices(userId: bigint): Promise<Device[]> {
    return this.devices.listDevices(userId);
  }

  startSession(userId: bigint, deviceId: bigint, refresh: RefreshRecord): Promise<{ session: SessionRecord; replaced: bigint[] }> {
    return this.sessions.startSession(userId, deviceId, refreshArgs(refresh), Date.now());
  }

  findSessions(ids: readonly bigint[]): Promise<SessionRecord[]> {
    return this.sessions.findSessions(ids);
  }

  findSessionByHandle(handle: string): Promise<SessionRecord | undefined> {
    return this.sessions.findSessionByHandle(handle);
  }

  rotateRefresh(id: bigint, expectedHash: string, next: RefreshRecord, keepUsed: number): Promise<boolean> {
    return this.sessions.rotateRefresh(id, expectedHash, refreshArgs(next), keepUsed, Date.now());
  }

  logOutDevice(userId: bigint, deviceId: bigint): Promise<bigint[] | undefined> {
    return this.devices.logOutDevice(userId, deviceId, Date.now());
  }

  revokeSession(id: bigint): Promise<boolean> {
    return this.sessions.revokeSession(id, Date.now());
  }

  changePassword(userId: bigint, keepSessionId: bigint, expectedHash: string, passwordHash: string): Promise<PasswordChangeOutcome> {
    return this.sessions.changePassword(userId, keepSessionId, expectedHash, passwordHash, Date.now());
  }

  logOutLeastRecentlyUsed(userId: bigint, keep: bigint, max: number): Promise<EndedSession[]> {
    return this.devices.logOutLeastRecentlyUsed(userId, keep, max, Date.now());
  }

  addFriend(userId: bigint, otherId: bigint): Promise<"friends" | "request_sent"> {
    return this.friends.addFriend(userId, otherId, Date.now());
  }

  removeFriend(userId: bigint, otherId: bigint): Promise<boolean> {
    return this.friends.removeFriend(userId, otherId);
  }

  listFriends(userId: bigint): Promise<FriendEntry[]> {
    return this.friends.listFriends(userId);
  }

  friendState(userId: bigint, otherId: bigint): Promise<FriendState | "none"> {
    return this.friends.friendState(userId, otherId);
  }

  friendIdsOf(userIds: readonly bigint[]): Promise<Map<bigint, bigint[]>> {
    return this.friends.friendIdsOf(userIds);
  }

  setPushToken(userId: bigint, deviceId: bigint, token: PushToken | undefined, now: Date): Promise<PushTokenOutcome> {
    return this.push.setPushToken(userId, deviceId, token, now.getTime());
  }

  pushTargets(userId: bigint): Promise<{ deviceId: bigint; token: PushToken }[]> {
    return this.push.pushTargets(userId);
  }

  removePushToken(deviceId: bigint, token: string): Promise<bigint | undefined> {
    return this.push.removePushToken(deviceId, token);
  }

  async getSettings(userId: bigint): Promise<SettingsRecord> {
    return (await this.settings.getSettings(userId)) ?? { ...DEFAULT_SETTINGS, mutedConversationIds: [] };
  }

  putSettings(userId: bigint, settings: SettingsRecord): Promise<void> {
    return this.settings.putSettings(userId, settings);
  }

  block(userId: bigint, otherId: bigint, max: number): Promise<BlockOutcome> {
    return this.blocks.block(userId, otherId, max, Date.now());
  }

  unblock(userId: bigint, otherId: bigint): Promise<boolean> {
    return this.blocks.unblock(userId, otherId);
  }

  listBlocked(userId: bigint): Promise<BlockEntry[]> {
    return this.blocks.listBlocked(userId);
  }

  blockState(userId: bigint, otherId: bigint): Promise<{ userBlocksOther: boolean; otherBlocksUser: boolean }> {
    return this.blocks.blockState(userId, otherId);
  }

  async blockedWith(userId: bigint, userIds: readonly bigint[]): Promise<Set<bigint>> {
    if (userIds.length === 0) return new Set();
    return new Set(await this.blocks.blockedWith(userId, userIds));
  }

  disableUser(userId: bigint): Promise<{ wasDisabled: boolean; ended: bigint[] } | undefined> {
    return this.moderation.disableUser(userId, Date.now());
  }

  enableUser(userId: bigint): Promise<boolean | undefined> {
    return this.moderation.enableUser(userId);
  }

  async disabledAt(userId: bigint): Promise<Date | undefined> {
    const ms = await this.moderation.disabledAt(userId);
    return ms === undefined ? undefined : new Date(ms);
  }

  liveSessions(userId: bigint): Promise<LiveSessionEntry[]> {
    return this.moderation.liveSessions(userId);
  }

  async hidingPresence(userIds: readonly bigint[]): Promise<Set<bigint>> {
    if (userIds.length === 0) return new Set();
    return new Set(await this.settings.hidingPresence(userIds));
  }
}

function refreshArgs(refresh: RefreshRecord): RefreshArgs {
  return { handle: refresh.handle, hash: refresh.hash, expiresAt: refresh.expiresAt.getTime() };
}
