import type { RateLimiterAbstract } from "rate-limiter-flexible";
import type { SettingsRecord } from "./domain/settings.js";

/** The account domain's records. IDs are bigint: they are 64-bit in the contracts. */
export interface User {
  id: bigint;
  username: string;
  displayName: string;
  passwordHash: string;
  createdAt: Date;
}

export interface Device {
  id: bigint;
  userId: bigint;
  name: string;
  loggedIn: boolean;
  pushPlatform: number;
  createdAt: Date;
  lastSeenAt: Date;
}

export interface SessionRecord {
  /** Internal: sequential, never shown to clients. */
  id: bigint;
  userId: bigint;
  deviceId: bigint;
  /** The random lookup part of the session's refresh tokens (see tokens.ts). */
  handle: string;
  /** SHA-256 of the current refresh token's secret. */
  refreshHash: string;
  /** SHA-256 of the secrets of the most recently used (rotated away) refresh tokens, newest first. */
  usedRefreshHashes: string[];
  refreshExpiresAt: Date;
  revoked: boolean;
}

/** A refresh token as the store keeps it. */
export interface RefreshRecord {
  handle: string;
  hash: string;
  expiresAt: Date;
}

/** A session some change ended, and the device it was on. */
export interface EndedSession {
  sessionId: bigint;
  deviceId: bigint;
}

/** What changePassword did. */
export type PasswordChangeOutcome = { status: "changed"; ended: EndedSession[] } | { status: "session_ended" } | { status: "password_changed_meanwhile" };

/** What setPushToken did. */
export type PushTokenOutcome =
  /** The device holds the token now; `movedFrom` are the users whose devices lost it. */
  | { status: "set"; movedFrom: bigint[] }
  /** The device is not the user's: nothing changed. */
  | { status: "not_your_device" }
  /** A device of another user with a live session holds the token: nothing changed. */
  | { status: "taken" };

/** A push token: FCM (1), APNs (2) or a Web Push subscription (3), as in the contract's PushPlatform. */
export type PushToken = { platform: 1 | 2; token: string } | { platform: 3; endpoint: string; p256dh: string; auth: string };

export type FriendState = "friends" | "request_sent" | "request_received";

/** A user someone blocks, and since when. */
export interface BlockEntry {
  user: User;
  since: Date;
}

/** A live session as operators see it (moderation). */
export interface LiveSessionEntry {
  sessionId: bigint;
  deviceId: bigint;
  deviceName: string;
  createdAt: Date;
  lastSeenAt: Date;
}

/** What block() did: stored it, found it there already, or refused it at the limit. */
export type BlockOutcome = "blocked" | "already" | "limit";

export interface FriendEntry {
  user: User;
  state: FriendState;
  since: Date;
}

/**
 * The account store port. Every method is atomic on its own. Guarantees:
 * - usernames are unique as stored (lower case): createUser throws
 *   UsernameTaken on a duplicate, including under concurrent sign-ups;
 * - a device has at most one live session: startSession revokes the others;
 * - a push token is held by at most one device, and is never taken from a
 *   device of another user while that device's session lives;
 * - addFriend is serialised per pair of users, so two users adding each
 *   other at the same moment end up friends, never with two crossed requests;
 * - block is serialised per blocker, so concurrent blocks never pass the limit.
 */
export interface AccountStore {
  createUser(username: string, displayName: string, passwordHash: string): Promise<User>;
  findUserByName(username: string): Promise<User | undefined>;
  findUserById(id: bigint): Promise<User | undefined>;
  findUsersByIds(ids: readonly bigint[]): Promise<User[]>;
  updateDisplayName(id: bigint, displayName: string): Promise<User | undefined>;

  /** Reuses `deviceId` when it belongs to the user (renaming it), or registers a new device. */
  upsertDevice(userId: bigint, deviceId: bigint | undefined, name: string): Promise<Device | undefined>;
  listDevices(userId: bigint): Promise<Device[]>;

  /** Starts a session on the device, revoking its earlier live ones (returned as `replaced`). */
  startSession(userId: bigint, deviceId: bigint, refresh: RefreshRecord): Promise<{ session: SessionRecord; replaced: bigint[] }>;
  /** The sessions of these ids that exist, in no particular order (one round trip for a gateway's batch of log-ins). */
  findSessions(ids: readonly bigint[]): Promise<SessionRecord[]>;
  findSessionByHandle(handle: string): Promise<SessionRecord | undefined>;
  /**
   * Replaces the refresh token only if the current hash is still
   * `expectedHash` and the session is live (one winner per refresh token),
   * pushing `expectedHash` onto the used hashes and keeping the newest
   * `keepUsed` of them.
   */
  rotateRefresh(id: bigint, expectedHash: string, next: RefreshRecord, keepUsed: number): Promise<boolean>;
  /**
   * Revokes the device's live sessions and forgets its push token; returns
   * the sessions it revoked, or undefined when it is not the user's device.
   */
  logOutDevice(userId: bigint, deviceId: bigint): Promise<bigint[] | undefined>;
  /** Revokes the session; false when it was already revoked. */
  revokeSession(id: bigint): Promise<boolean>;
  /**
   * Replaces the user's password hash, if it is still `expectedHash`, and
   * revokes every live session of the user but `keepSessionId`, in one
   * transaction serialised per user. Changes nothing when `keepSessionId` is
   * no longer a live session of the user, or the hash changed meanwhile.
   */
  changePassword(userId: bigint, keepSessionId: bigint, expectedHash: string, passwordHash: string): Promise<PasswordChangeOutcome>;
  /**
   * Keeps at most `max` of the user's devices logged in, `keep` always among
   * them: logs out (as logOutDevice does) the ones least recently used (last
   * log-in or token refresh) beyond that, and returns the sessions it ended.
   * Serialised per user, so concurrent log-ins cannot leave more than `max`.
   */
  logOutLeastRecentlyUsed(userId: bigint, keep: bigint, max: number): Promise<EndedSession[]>;

  /** Sends a request, or accepts the other's pending one; returns the resulting state. */
  addFriend(userId: bigint, otherId: bigint): Promise<"friends" | "request_sent">;
  /** Ends a friendship or a request either way; false when there was none. */
  removeFriend(userId: bigint, otherId: bigint): Promise<boolean>;
  listFriends(userId: bigint): Promise<FriendEntry[]>;
  friendState(userId: bigint, otherId: bigint): Promise<FriendState | "none">;
  /**
   * Each user's friend ids, ascending; every asked user is a key (an empty
   * list for none). A friend blocked either way is left out (the friendship
   * is suspended while the block lasts).
   */
  friendIdsOf(userIds: readonly bigint[]): Promise<Map<bigint, bigint[]>>;

  /** Blocks `otherId` for `userId` unless the user blocks `max` users already. */
  block(userId: bigint, otherId: bigint, max: number): Promise<BlockOutcome>;
  /** Ends the user's block of `otherId`; false when there was none. */
  unblock(userId: bigint, otherId: bigint): Promise<boolean>;
  /** The users `userId` blocks, newest block first. */
  listBlocked(userId: bigint): Promise<BlockEntry[]>;
  /** Whether each of two users blocks the other. */
  blockState(userId: bigint, otherId: bigint): Promise<{ userBlocksOther: boolean; otherBlocksUser: boolean }>;
  /** Those of `userIds` who block `userId` or whom `userId` blocks. */
  blockedWith(userId: bigint, userIds: readonly bigint[]): Promise<Set<bigint>>;

  /**
   * Disables the account (when it is not already) and revokes every live
   * session of the user, in one transaction; undefined for no such user.
   * `wasDisabled` says it was disabled before; `ended` lists the sessions it revoked.
   */
  disableUser(userId: bigint): Promise<{ wasDisabled: boolean; ended: bigint[] } | undefined>;
  /** Enables the account; returns whether it was disabled (undefined for no such user). */
  enableUser(userId: bigint): Promise<boolean | undefined>;
  /** When the account was disabled; undefined while it is enabled (or for no such user). */
  disabledAt(userId: bigint): Promise<Date | undefined>;
  /** The user's live sessions, newest first. */
  liveSessions(userId: bigint): Promise<LiveSessionEntry[]>;

  /**
   * Sets (or, with `token` undefined, removes) the device's push token.
   * The same token on another device of the user is removed there (a
   * reinstalled app), and so it is on another user's device whose session
   * has ended (revoked, or its refresh token expired by `now`); held by
   * another user's device with a live session, it is "taken" and nothing
   * changes. Serialised per token, so two users registering one token at
   * the same moment cannot both get it.
   */
  setPushToken(userId: bigint, deviceId: bigint, token: PushToken | undefined, now: Date): Promise<PushTokenOutcome>;
  /** Logged-in devices of the user that have a push token. */
  pushTargets(userId: bigint): Promise<{ deviceId: bigint; token: PushToken }[]>;
  /** Removes the device's token if it is still `token` (an FCM/APNs token, or a Web Push endpoint); returns the device's user when it did. */
  removePushToken(deviceId: bigint, token: string): Promise<bigint | undefined>;

  /** The user's settings; the defaults when they never changed any. */
  getSettings(userId: bigint): Promise<SettingsRecord>;
  /** Replaces the user's settings (last writer wins). */
  putSettings(userId: bigint, settings: SettingsRecord): Promise<void>;
  /** Those of `userIds` who hide their presence. */
  hidingPresence(userIds: readonly bigint[]): Promise<Set<bigint>>;
}

/** What a counter is: its key prefix, its points and how long (s) a key's count lives from its first point. */
export interface CounterOptions {
  keyPrefix: string;
  points: number;
  duration: number;
}

/**
 * Makes the counters the limits are built from (rate-limiter-flexible
 * limiters: atomic increments with expiry, blocks, get and delete), all on
 * one store.
 */
export type CounterFactory = (options: CounterOptions) => RateLimiterAbstract;
