import { EventEmitter } from "node:events";
import { BadCredentials, InvalidInput, NotAuthenticated, NotFound, PushTokenTaken, WrongPassword } from "../errors.js";
import type { AuthLimits } from "./limits/auth-limits.js";
import { settled } from "./settled-try.js";
import type { PasswordHasher } from "./passwords.js";
import { Blocks } from "./blocks.js";
import { Moderation } from "./moderation.js";
import type { AccountStore, Device, FriendEntry, FriendState, RefreshRecord, User } from "../ports.js";
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

/** Why sessions ended; each has its own WebSocket close code. */
export type SessionEndReason = "logged_out" | "revoked" | "replaced" | "password_changed" | "account_disabled";

/**
 * Sessions of one user ended (already revoked when announced): connections
 * they authenticated must close. `allSessions` covers every session of the
 * user, listed or not; nothing emits it yet: disabling an account (a later
 * feature) is to end all sessions with reason "account_disabled".
 */
export interface SessionsEnded {
  userId: bigint;
  sessionIds: bigint[];
  allSessions: boolean;
  reason: SessionEndReason;
}

/** What Accounts announces on `events`: this instance's changes only, each once it is stored. */
export interface AccountEvents {
  /** Sessions ended, however they ended: connections they authenticated must close. */
  sessionsEnded: [ended: SessionsEnded];
  /** The device's sessions ended: connections holding it must close. Kept beside sessionsEnded for older watchers. */
  deviceLoggedOut: [userId: bigint, deviceId: bigint];
  /** What GetNotificationTargets answers for the user may have changed: caches of it must be dropped. */
  notificationTargetsChanged: [userId: bigint];
  /** The user blocked (true) or unblocked (false) the other: caches of the pair's block state must be dropped. */
  blocksChanged: [userId: bigint, otherId: bigint, blocked: boolean];
}

export interface AccountsOptions {
  store: AccountStore;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  refreshTtlSeconds: number;
  /** How many used refresh-token hashes a session keeps for replay detection (see refresh()). */
  refreshReuseHistory: number;
  /** Brute-force limits on password checks, sign-ups and refreshes. */
  limits: AuthLimits;
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
   * Emits sessionsEnded (and deviceLoggedOut on log-out) so connections
   * authenticated by those sessions can be closed, and
   * notificationTargetsChanged so notify can drop cached targets. Each is
   * emitted after the change is stored, so a listener reading back sees it.
   */
  readonly events = new EventEmitter<AccountEvents>();
  /** Blocking (domain/blocks.ts). */
  readonly blocks: Blocks;
  /** Operators' moderation (domain/moderation.ts). */
  readonly moderation: Moderation;

  constructor(private readonly options: AccountsOptions) {
    this.blocks = new Blocks(options.store, this.events, (ref) => this.profile(ref));
    this.moderation = new Moderation(options.store, this.events, (ref) => this.profile(ref));
  }

  /**
   * `client` (here and below) is the end user's network address as the
   * gateway saw it, which the brute-force limits count by; undefined when the
   * caller named none.
   */
  async signUp(usernameRaw: string, password: string, displayNameRaw: string, client?: string): Promise<User> {
    const username = checkUsername(usernameRaw);
    checkPassword(password, username);
    const displayName = displayNameRaw === "" ? username : checkName("display_name", displayNameRaw);
    await this.options.limits.signUp(client);
    const hash = await this.options.hasher.hash(password);
    return this.options.store.createUser(username, displayName, hash);
  }

  async logIn(usernameRaw: string, password: string, deviceNameRaw: string, deviceId: bigint | undefined, client?: string) {
    if (usernameRaw === "") throw new InvalidInput("username", "is required");
    if (password === "") throw new InvalidInput("password", "is required");
    const deviceName = checkName("device_name", deviceNameRaw);
    const username = usernameRaw.toLowerCase();
    // Counted before the password is checked, for unknown usernames too (see AuthLimits).
    const attempt = await this.options.limits.passwordTry(username, client);
    const user = await settled(
      attempt,
      async () => {
        const found = await this.options.store.findUserByName(username);
        return (await this.options.hasher.verify(password, found?.passwordHash)) ? found : undefined;
      },
      (found) => found !== undefined,
    );
    if (user === undefined) throw new BadCredentials();
    await this.moderation.refuseDisabled(user.id);
    const device = await this.options.store.upsertDevice(user.id, deviceId, deviceName);
    if (device === undefined) throw new NotFound(`device ${deviceId} is not one of your devices; log in without device_id to register a new one`);
    const tokens = await this.startSession(user.id, device.id);
    await this.moderation.refuseDisabledAfterStart(user.id);
    await this.keepDeviceCap(user.id, device.id);
    // A reused device may hold a push token from a session revoked on replay: live again, it is a target again.
    if (deviceId !== undefined) this.targetsChanged(user.id);
    return { user, device: { ...device, loggedIn: true }, tokens };
  }

  /**
   * Rotates the session's refresh token. Only a token this server issued
   * for the session can change anything: one whose secret matches neither
   * the current token nor a recently used one is refused and changes
   * nothing, so nobody can end someone else's session by making one up.
   *
   * Replay detection: the session keeps the hashes of its last
   * `refreshReuseHistory` used tokens. A used token presented again means
   * two parties hold it (the device and a thief, in some order), so the
   * session ends for both. The history is bounded because a session lives
   * on for as long as it keeps refreshing (each refresh extends it), and an
   * unbounded list would grow on every session row forever; a thief replays
   * a stolen token soon (or the device does, right after the thief used it),
   * and a token older than the window is still refused, just without
   * ending the session.
   */
  async refresh(refreshToken: string, client?: string): Promise<SessionTokens> {
    if (refreshToken === "") throw new InvalidInput("refresh_token", "is required");
    const attempt = await this.options.limits.refreshTry(client);
    return settled(
      attempt,
      () => this.rotate(refreshToken),
      () => true,
      (err) => err instanceof NotAuthenticated,
    );
  }

  private async rotate(refreshToken: string): Promise<SessionTokens> {
    const { handle, hash } = refreshTokens.parse(refreshToken);
    const session = await this.options.store.findSessionByHandle(handle);
    const issued =
      session === undefined
        ? undefined
        : refreshTokens.same(hash, session.refreshHash)
          ? "current"
          : session.usedRefreshHashes.some((used) => refreshTokens.same(hash, used))
            ? "used"
            : undefined;
    if (session === undefined || issued === undefined) throw new NotAuthenticated("the refresh token is not valid");
    if (session.revoked) throw new NotAuthenticated("the session has ended; log in again");
    if (issued === "used") {
      if (await this.options.store.revokeSession(session.id)) {
        this.sessionsEnded(session.userId, [session.id], "revoked");
        this.targetsChanged(session.userId); // without a live session the device gets no pushes
      }
      throw new NotAuthenticated("the refresh token was already used, so the session has ended for safety; log in again");
    }
    if (session.refreshExpiresAt.getTime() <= this.options.now()) throw new NotAuthenticated("the refresh token has expired; log in again");
    const next = this.newRefresh(refreshTokens.isLegacyHandle(session.handle) ? refreshTokens.newHandle() : session.handle);
    const rotated = await this.options.store.rotateRefresh(session.id, session.refreshHash, next.record, this.options.refreshReuseHistory);
    // Another refresh with the same token won the race: this one is refused, and the token is now a used one.
    if (!rotated) throw new NotAuthenticated("the refresh token was already used; log in again");
    const access = await this.options.tokens.issue(session.userId, session.deviceId, session.id);
    return { accessToken: access.token, accessExpiresAt: access.expiresAt, refreshToken: next.token, refreshExpiresAt: next.record.expiresAt };
  }

  /** Verifies an access token and that its session is still live. */
  async authenticate(accessToken: string): Promise<TokenClaims> {
    const [verdict] = await this.authenticateMany([accessToken]);
    if (verdict instanceof NotAuthenticated) throw verdict;
    return verdict!;
  }

  /** authenticate() for many tokens, their sessions read in one store call: each token's claims or why it is refused, in order. */
  async authenticateMany(accessTokens: readonly string[]): Promise<(TokenClaims | NotAuthenticated)[]> {
    // A refused token is a value here; any other failure (a bug) still throws.
    const verified = await Promise.all(
      accessTokens.map((t) => this.options.tokens.verify(t).catch((e: unknown) => (e instanceof NotAuthenticated ? e : Promise.reject(e)))),
    );
    const claimed = verified.filter((v): v is TokenClaims => !(v instanceof NotAuthenticated));
    const sessions = new Map((await this.options.store.findSessions(claimed.map((c) => c.sessionId))).map((s) => [s.id, s]));
    return verified.map((claims) => {
      if (claims instanceof NotAuthenticated) return claims;
      const session = sessions.get(claims.sessionId);
      if (session === undefined || session.revoked || session.deviceId !== claims.deviceId || session.userId !== claims.userId) {
        return new NotAuthenticated("the session has ended (the device logged out); log in again");
      }
      return claims;
    });
  }

  async logOut(caller: TokenClaims, deviceId: bigint | undefined): Promise<void> {
    const target = deviceId ?? caller.deviceId;
    const ended = await this.options.store.logOutDevice(caller.userId, target);
    if (ended === undefined) throw new NotFound(`device ${target} is not one of your devices`);
    this.sessionsEnded(caller.userId, ended, "logged_out");
    this.events.emit("deviceLoggedOut", caller.userId, target);
    this.targetsChanged(caller.userId); // its push token went with it
  }

  /**
   * Changes the caller's password and ends every other session of theirs
   * (a lost or stolen device is shut out this way); the caller's session
   * lives on. Returns the devices that were logged out.
   */
  async changePassword(caller: TokenClaims, currentPassword: string, newPassword: string, client?: string): Promise<bigint[]> {
    if (currentPassword === "") throw new InvalidInput("current_password", "is required");
    const user = await this.options.store.findUserById(caller.userId);
    if (user === undefined) throw new NotAuthenticated("the session has ended; log in again");
    checkPassword(newPassword, user.username, "new_password");
    // A guess of the current password, counted with the log-ins' (a stolen access token must not buy more guesses).
    const attempt = await this.options.limits.passwordTry(user.username, client);
    const right = await settled(
      attempt,
      () => this.options.hasher.verify(currentPassword, user.passwordHash),
      (ok) => ok,
    );
    if (!right) throw new WrongPassword();
    if (newPassword.normalize("NFC") === currentPassword.normalize("NFC")) throw new InvalidInput("new_password", "must differ from the current password");
    const hash = await this.options.hasher.hash(newPassword);
    const outcome = await this.options.store.changePassword(user.id, caller.sessionId, user.passwordHash, hash);
    if (outcome.status === "session_ended") throw new NotAuthenticated("the session has ended; log in again");
    if (outcome.status === "password_changed_meanwhile") throw new WrongPassword();
    if (outcome.ended.length > 0) {
      this.sessionsEnded(
        user.id,
        outcome.ended.map((e) => e.sessionId),
        "password_changed",
      );
      this.targetsChanged(user.id); // the devices logged out get no pushes
    }
    return [...new Set(outcome.ended.map((e) => e.deviceId))];
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
    await this.blocks.refuseIfBlocked(userId, other.id);
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

  friendIdsOf(userIds: readonly bigint[]): Promise<Map<bigint, bigint[]>> {
    return this.options.store.friendIdsOf(userIds);
  }

  async setPushToken(caller: TokenClaims, platform: number, token: string, web: { endpoint: string; p256dh: string; auth: string } | undefined): Promise<void> {
    const checked = checkPushToken(platform, token, web);
    const outcome = await this.options.store.setPushToken(caller.userId, caller.deviceId, checked, new Date(this.options.now()));
    if (outcome.status === "not_your_device") throw new NotFound("the calling device no longer exists");
    if (outcome.status === "taken") throw new PushTokenTaken();
    for (const userId of new Set([caller.userId, ...outcome.movedFrom])) this.targetsChanged(userId);
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
    const refresh = this.newRefresh(refreshTokens.newHandle());
    const { session, replaced } = await this.options.store.startSession(userId, deviceId, refresh.record);
    // The device holds a live session again at once, so its push targets stay as they were.
    this.sessionsEnded(userId, replaced, "replaced");
    const access = await this.options.tokens.issue(userId, deviceId, session.id);
    return { accessToken: access.token, accessExpiresAt: access.expiresAt, refreshToken: refresh.token, refreshExpiresAt: refresh.record.expiresAt };
  }

  private newRefresh(handle: string): { token: string; record: RefreshRecord } {
    const { token, hash } = refreshTokens.create(handle);
    return { token, record: { handle, hash, expiresAt: this.refreshExpiry() } };
  }

  /** Announces sessions the store revoked (in id order), so that their connections close. */
  private sessionsEnded(userId: bigint, sessionIds: bigint[], reason: SessionEndReason): void {
    if (sessionIds.length === 0) return;
    const ordered = [...sessionIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.events.emit("sessionsEnded", { userId, sessionIds: ordered, allSessions: false, reason });
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
    const ended = await this.options.store.logOutLeastRecentlyUsed(userId, deviceId, this.options.maxDevices);
    if (ended.length === 0) return;
    this.sessionsEnded(
      userId,
      ended.map((e) => e.sessionId),
      "logged_out",
    );
    for (const device of new Set(ended.map((e) => e.deviceId))) this.events.emit("deviceLoggedOut", userId, device);
    this.targetsChanged(userId); // their push tokens went with them
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
