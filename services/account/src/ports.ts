import type { SettingsRecord } from "./settings.js";

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
  id: bigint;
  userId: bigint;
  deviceId: bigint;
  refreshHash: string;
  refreshExpiresAt: Date;
  revoked: boolean;
}

/** A push token: FCM (1), APNs (2) or a Web Push subscription (3), as in the contract's PushPlatform. */
export type PushToken =
  | { platform: 1 | 2; token: string }
  | { platform: 3; endpoint: string; p256dh: string; auth: string };

export type FriendState = "friends" | "request_sent" | "request_received";

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
 * - addFriend is serialised per pair of users, so two users adding each
 *   other at the same moment end up friends, never with two crossed requests.
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

  /** Starts a session on the device, revoking its earlier ones. */
  startSession(userId: bigint, deviceId: bigint, refresh: (sessionId: bigint) => { hash: string; expiresAt: Date }): Promise<SessionRecord>;
  findSession(id: bigint): Promise<SessionRecord | undefined>;
  /** Replaces the refresh hash only if it is still `expectedHash` (one winner per refresh token). */
  rotateRefresh(id: bigint, expectedHash: string, hash: string, expiresAt: Date): Promise<boolean>;
  /** Revokes the device's live sessions and forgets its push token; false when it is not the user's device. */
  logOutDevice(userId: bigint, deviceId: bigint): Promise<boolean>;
  /**
   * Keeps at most `max` of the user's devices logged in, `keep` always among
   * them: logs out (as logOutDevice does) the ones least recently used (last
   * log-in or token refresh) beyond that, and returns their ids. Serialised
   * per user, so concurrent log-ins cannot leave more than `max`.
   */
  logOutLeastRecentlyUsed(userId: bigint, keep: bigint, max: number): Promise<bigint[]>;
  revokeSession(id: bigint): Promise<void>;

  /** Sends a request, or accepts the other's pending one; returns the resulting state. */
  addFriend(userId: bigint, otherId: bigint): Promise<"friends" | "request_sent">;
  /** Ends a friendship or a request either way; false when there was none. */
  removeFriend(userId: bigint, otherId: bigint): Promise<boolean>;
  listFriends(userId: bigint): Promise<FriendEntry[]>;
  friendState(userId: bigint, otherId: bigint): Promise<FriendState | "none">;
  friendIds(userId: bigint): Promise<bigint[]>;

  /**
   * Sets (or, with platform 0, removes) the device's push token. The same
   * token on another device is removed there (a reinstalled app, possibly
   * logged in as someone else). Returns the owners of the devices that lost
   * it, or undefined (changing nothing) when it is not the user's device.
   */
  setPushToken(userId: bigint, deviceId: bigint, token: PushToken | undefined): Promise<bigint[] | undefined>;
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
