import { EventEmitter } from "node:events";
import { BadCredentials, InvalidInput, NotAuthenticated, NotFound } from "./errors.js";
import type { PasswordHasher } from "./passwords.js";
import type { AccountStore, Device, FriendEntry, FriendState, User } from "./ports.js";
import { checkName, checkPassword, checkUsername } from "./rules.js";
import { checkPushToken } from "./push-tokens.js";
import { applySettings, type SettingsRecord } from "./settings.js";
import { refreshTokens, type AccessTokens, type TokenClaims } from "./tokens.js";

export interface SessionTokens {
  accessToken: string;
  accessExpiresAt: Date;
  refreshToken: string;
  refreshExpiresAt: Date;
}

/** What Accounts announces on `events`: this instance's changes only, each once it is stored. */
export interface AccountEvents {
  /** The device's sessions ended: connections holding it must close. */
  deviceLoggedOut: [userId: bigint, deviceId: bigint];
  /** What GetNotificationTargets answers for the user may have changed: caches of it must be dropped. */
  notificationTargetsChanged: [userId: bigint];
}

export interface AccountsOptions {
  store: AccountStore;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  refreshTtlSeconds: number;
  now: () => number;
  /** Devices of one account logged in at once; a log-in beyond it logs out the least recently used. Default: no cap. */
  maxDevices?: number;
}

/** A user reference as the API takes it: by id or by username. */
export type UserRef = { id: bigint } | { username: string };

/**
 * The account domain: sign-up, log-in per device, sessions, profiles and
 * friendships. Free of transport and storage; the store and the token
 * signer are handed in.
 */
export class Accounts {
  /**
   * Emits deviceLoggedOut so connections held by that device can be closed,
   * and notificationTargetsChanged so notify can drop cached targets. Each
   * is emitted after the change is stored, so a listener reading back sees it.
   */
  readonly events = new EventEmitter<AccountEvents>();

  constructor(private readonly options: AccountsOptions) {}

  async signUp(usernameRaw: string, password: string, displayNameRaw: string): Promise<User> {
    const username = checkUsername(usernameRaw);
    checkPassword(password, username);
    const displayName = displayNameRaw === "" ? username : checkName("display_name", displayNameRaw);
    const hash = await this.options.hasher.hash(password);
    return this.options.store.createUser(username, displayName, hash);
  }

  async logIn(usernameRaw: string, password: string, deviceNameRaw: string, deviceId: bigint | undefined) {
    if (usernameRaw === "") throw new InvalidInput("username", "is required");
    if (password === "") throw new InvalidInput("password", "is required");
    const deviceName = checkName("device_name", deviceNameRaw);
    const user = await this.options.store.findUserByName(usernameRaw.toLowerCase());
    if (!(await this.options.hasher.verify(password, user?.passwordHash)) || user === undefined) throw new BadCredentials();
    const device = await this.options.store.upsertDevice(user.id, deviceId, deviceName);
    if (device === undefined) throw new NotFound(`device ${deviceId} is not one of your devices; log in without device_id to register a new one`);
    const tokens = await this.startSession(user.id, device.id);
    await this.keepDeviceCap(user.id, device.id);
    // A reused device may hold a push token from a session revoked on replay: live again, it is a target again.
    if (deviceId !== undefined) this.targetsChanged(user.id);
    return { user, device: { ...device, loggedIn: true }, tokens };
  }

  async refresh(refreshToken: string): Promise<SessionTokens> {
    if (refreshToken === "") throw new InvalidInput("refresh_token", "is required");
    const { sessionId, secret } = refreshTokens.parse(refreshToken);
    const session = await this.options.store.findSession(sessionId);
    if (session === undefined || session.revoked) throw new NotAuthenticated("the session has ended; log in again");
    if (!refreshTokens.matches(secret, session.refreshHash)) {
      // A refresh token used twice means it leaked: end the session for everyone holding it.
      await this.options.store.revokeSession(session.id);
      this.targetsChanged(session.userId); // without a live session the device gets no pushes
      throw new NotAuthenticated("the refresh token was already used; log in again");
    }
    if (session.refreshExpiresAt.getTime() <= this.options.now()) throw new NotAuthenticated("the refresh token has expired; log in again");
    const next = refreshTokens.create(session.id);
    const refreshExpiresAt = this.refreshExpiry();
    const rotated = await this.options.store.rotateRefresh(session.id, session.refreshHash, next.hash, refreshExpiresAt);
    if (!rotated) throw new NotAuthenticated("the refresh token was already used; log in again");
    const access = await this.options.tokens.issue(session.userId, session.deviceId, session.id);
    return { accessToken: access.token, accessExpiresAt: access.expiresAt, refreshToken: next.token, refreshExpiresAt };
  }

  /** Verifies an access token and that its session is still live. */
  async authenticate(accessToken: string): Promise<TokenClaims> {
    const claims = await this.options.tokens.verify(accessToken);
    const session = await this.options.store.findSession(claims.sessionId);
    if (session === undefined || session.revoked || session.deviceId !== claims.deviceId) {
      throw new NotAuthenticated("the session has ended (the device logged out); log in again");
    }
    return claims;
  }

  async logOut(caller: TokenClaims, deviceId: bigint | undefined): Promise<void> {
    const target = deviceId ?? caller.deviceId;
    const done = await this.options.store.logOutDevice(caller.userId, target);
    if (!done) throw new NotFound(`device ${target} is not one of your devices`);
    this.events.emit("deviceLoggedOut", caller.userId, target);
    this.targetsChanged(caller.userId); // its push token went with it
  }

  async profile(ref: UserRef): Promise<User> {
    const user = "id" in ref ? await this.options.store.findUserById(ref.id) : await this.findByName(ref.username);
    if (user === undefined) throw new NotFound("id" in ref ? `no user with id ${ref.id}` : `no user named "${ref.username}"`);
    return user;
  }

  async updateDisplayName(userId: bigint, raw: string): Promise<User> {
    const user = await this.options.store.updateDisplayName(userId, checkName("display_name", raw));
    if (user === undefined) throw new NotFound(`no user with id ${userId}`);
    this.targetsChanged(userId); // notify's templates show the display name
    return user;
  }

  devices(userId: bigint): Promise<Device[]> {
    return this.options.store.listDevices(userId);
  }

  async addFriend(userId: bigint, ref: UserRef): Promise<{ state: "friends" | "request_sent"; other: User }> {
    const other = await this.profile(ref);
    if (other.id === userId) throw new InvalidInput("user", "cannot be yourself");
    return { state: await this.options.store.addFriend(userId, other.id), other };
  }

  async removeFriend(userId: bigint, otherId: bigint): Promise<void> {
    if (otherId === 0n) throw new InvalidInput("user_id", "is required");
    if (!(await this.options.store.removeFriend(userId, otherId))) {
      throw new NotFound(`no friendship or request with user ${otherId}`);
    }
  }

  friends(userId: bigint): Promise<FriendEntry[]> {
    return this.options.store.listFriends(userId);
  }

  friendState(userId: bigint, otherId: bigint): Promise<FriendState | "none"> {
    return this.options.store.friendState(userId, otherId);
  }

  friendIds(userId: bigint): Promise<bigint[]> {
    return this.options.store.friendIds(userId);
  }

  async setPushToken(caller: TokenClaims, platform: number, token: string, web: { endpoint: string; p256dh: string; auth: string } | undefined): Promise<void> {
    const checked = checkPushToken(platform, token, web);
    const movedFrom = await this.options.store.setPushToken(caller.userId, caller.deviceId, checked);
    if (movedFrom === undefined) throw new NotFound("the calling device no longer exists");
    for (const userId of new Set([caller.userId, ...movedFrom])) this.targetsChanged(userId);
  }

  pushTargets(userId: bigint) {
    return this.options.store.pushTargets(userId);
  }

  async removePushToken(deviceId: bigint, token: string): Promise<void> {
    if (token === "") throw new InvalidInput("token", "is required");
    const userId = await this.options.store.removePushToken(deviceId, token);
    if (userId !== undefined) this.targetsChanged(userId);
  }

  settings(userId: bigint): Promise<SettingsRecord> {
    return this.options.store.getSettings(userId);
  }

  async updateSettings(userId: bigint, values: SettingsRecord, fields: readonly string[]): Promise<SettingsRecord> {
    const next = applySettings(await this.options.store.getSettings(userId), values, fields);
    await this.options.store.putSettings(userId, next);
    this.targetsChanged(userId);
    return next;
  }

  hidingPresence(userIds: readonly bigint[]): Promise<Set<bigint>> {
    if (userIds.length > 1000) throw new InvalidInput("user_ids", "must name at most 1000 users");
    return this.options.store.hidingPresence(userIds);
  }

  users(ids: readonly bigint[]): Promise<User[]> {
    if (ids.length > 1000) throw new InvalidInput("user_ids", "must name at most 1000 users");
    return this.options.store.findUsersByIds(ids);
  }

  private async startSession(userId: bigint, deviceId: bigint): Promise<SessionTokens> {
    let refreshToken = "";
    const refreshExpiresAt = this.refreshExpiry();
    const session = await this.options.store.startSession(userId, deviceId, (sessionId) => {
      const created = refreshTokens.create(sessionId);
      refreshToken = created.token;
      return { hash: created.hash, expiresAt: refreshExpiresAt };
    });
    const access = await this.options.tokens.issue(userId, deviceId, session.id);
    return { accessToken: access.token, accessExpiresAt: access.expiresAt, refreshToken, refreshExpiresAt };
  }

  /**
   * At the device cap, a new log-in logs out the least recently used device
   * rather than being refused, as messengers do with linked devices: the
   * usual way to reach the cap is phones and browsers that were lost, wiped
   * or replaced without logging out, and refusing would lock their owner out
   * of a new device until those sessions expired. It gives nothing to
   * someone who has the password: LogOut already ends any of the account's
   * devices. The evicted device's sockets close with 4101 (logged out).
   */
  private async keepDeviceCap(userId: bigint, deviceId: bigint): Promise<void> {
    if (this.options.maxDevices === undefined) return;
    const evicted = await this.options.store.logOutLeastRecentlyUsed(userId, deviceId, this.options.maxDevices);
    for (const id of evicted) this.events.emit("deviceLoggedOut", userId, id);
    if (evicted.length > 0) this.targetsChanged(userId); // their push tokens went with them
  }

  private targetsChanged(userId: bigint): void {
    this.events.emit("notificationTargetsChanged", userId);
  }

  private refreshExpiry(): Date {
    return new Date(this.options.now() + this.options.refreshTtlSeconds * 1000);
  }

  private findByName(raw: string): Promise<User | undefined> {
    return this.options.store.findUserByName(raw.toLowerCase());
  }
}
