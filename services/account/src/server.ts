import type { ConnectRouter, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AccountInternalService, AccountModerationService, AccountService } from "@parley/contracts/parley/account/v1/account";
import { clientAddressKey, createLogger, withFieldChecks, type FieldProblem, type Logger } from "@parley/runtime";
import type { Accounts, UserRef } from "./domain/accounts.js";
import { InvalidInput, NotAuthenticated } from "./errors.js";
import { accountEventStream } from "./event-stream.js";
import { moderationApi } from "./moderation-api.js";
import { fromSettingsMessage, toDeviceMessage, toFriendshipState, toProfile, toSession, toSettingsMessage } from "./convert.js";
import type { TokenClaims } from "./domain/tokens.js";

/**
 * Wiring: the account contracts on top of the domain. No listening here;
 * main.ts (or the embedded launcher) decides where the routes are served.
 */
export function accountRoutes(
  accounts: Accounts,
  stopping: AbortSignal = new AbortController().signal,
  logger: Logger = createLogger("account", "silent"),
): (router: ConnectRouter) => void {
  // Every request first passes the rules all requests share (ids fit SQL bigint, no NUL in text).
  const refuse = (problem: FieldProblem) => new InvalidInput(problem.field, problem.rule);
  return (router) => {
    router.service(AccountService, withFieldChecks(AccountService, publicApi(accounts), refuse));
    router.service(AccountInternalService, withFieldChecks(AccountInternalService, internalApi(accounts, stopping), refuse));
    router.service(AccountModerationService, withFieldChecks(AccountModerationService, moderationApi(accounts, logger), refuse));
  };
}

export const accountServiceNames = [AccountService.typeName, AccountInternalService.typeName, AccountModerationService.typeName];

function publicApi(accounts: Accounts): Partial<ServiceImpl<typeof AccountService>> {
  const caller = (context: HandlerContext) => accounts.authenticate(bearerToken(context));
  // The end user's address, set by the guard from the gateway's parley-client-address header.
  const client = (context: HandlerContext) => context.values.get(clientAddressKey);
  return {
    async signUp(req, context) {
      const user = await accounts.signUp(req.username, req.password, req.displayName, client(context));
      return { profile: toProfile(user) };
    },
    async logIn(req, context) {
      const { user, device, tokens } = await accounts.logIn(req.username, req.password, req.deviceName, optionalId(req.deviceId), client(context));
      return { profile: toProfile(user), device: toDeviceMessage(device), session: toSession(tokens) };
    },
    async refreshSession(req, context) {
      return { session: toSession(await accounts.refresh(req.refreshToken, client(context))) };
    },
    async logOut(req, context) {
      await accounts.logOut(await caller(context), optionalId(req.deviceId));
      return {};
    },
    async changePassword(req, context) {
      return { loggedOutDeviceIds: await accounts.changePassword(await caller(context), req.currentPassword, req.newPassword, client(context)) };
    },
    async getProfile(req, context) {
      const me = await caller(context);
      const ref: UserRef = req.userId !== 0n ? { id: req.userId } : req.username !== "" ? { username: req.username } : { id: me.userId };
      return { profile: toProfile(await accounts.profile(ref)) };
    },
    async updateProfile(req, context) {
      const me = await caller(context);
      return { profile: toProfile(await accounts.updateDisplayName(me.userId, req.displayName)) };
    },
    async listDevices(_req, context) {
      const me = await caller(context);
      return { devices: (await accounts.devices(me.userId)).map(toDeviceMessage) };
    },
    async addFriend(req, context) {
      const me = await caller(context);
      const { state, other } = await accounts.addFriend(me.userId, userRef(req.userId, req.username));
      return { state: toFriendshipState(state), friend: toProfile(other) };
    },
    async removeFriend(req, context) {
      const me = await caller(context);
      await accounts.removeFriend(me.userId, req.userId);
      return {};
    },
    async setPushToken(req, context) {
      await accounts.setPushToken(await caller(context), req.platform, req.token, req.webPush);
      return {};
    },
    async getSettings(_req, context) {
      const me = await caller(context);
      return { settings: toSettingsMessage(await accounts.settings(me.userId)) };
    },
    async updateSettings(req, context) {
      const me = await caller(context);
      const values = fromSettingsMessage(req.settings);
      return { settings: toSettingsMessage(await accounts.updateSettings(me.userId, values, req.fields)) };
    },
    async blockUser(req, context) {
      const me = await caller(context);
      return { blocked: toProfile(await accounts.blocks.block(me.userId, userRef(req.userId, req.username))) };
    },
    async unblockUser(req, context) {
      const me = await caller(context);
      return { wasBlocked: await accounts.blocks.unblock(me.userId, req.userId) };
    },
    async listBlockedUsers(_req, context) {
      const me = await caller(context);
      const blocked = await accounts.blocks.list(me.userId);
      return { blockedUsers: blocked.map((b) => ({ profile: toProfile(b.user), since: timestampFromDate(b.since) })) };
    },
    async listFriends(_req, context) {
      const me = await caller(context);
      const friends = await accounts.friends(me.userId);
      return {
        friends: friends.map((f) => ({ profile: toProfile(f.user), state: toFriendshipState(f.state), since: timestampFromDate(f.since) })),
      };
    },
  };
}

function internalApi(accounts: Accounts, stopping: AbortSignal): Partial<ServiceImpl<typeof AccountInternalService>> {
  return {
    async verifyToken(req) {
      return identity(await accounts.authenticate(req.accessToken));
    },
    async verifyTokens(req) {
      checkBatch("access_tokens", req.accessTokens.length, "tokens");
      const verdicts = await accounts.authenticateMany(req.accessTokens);
      return {
        verdicts: verdicts.map((v) =>
          v instanceof NotAuthenticated ? { verdict: { case: "refusal", value: v.message } } : { verdict: { case: "identity", value: identity(v) } },
        ),
      };
    },
    async getUsers(req) {
      return { profiles: (await accounts.users(req.userIds)).map(toProfile) };
    },
    async checkFriendship(req) {
      return { state: toFriendshipState(await accounts.friendState(req.userId, req.otherUserId)) };
    },
    async getNotificationTargets(req) {
      const [profile, settings, targets] = await Promise.all([
        accounts.profile({ id: req.userId }),
        accounts.settings(req.userId),
        accounts.pushTargets(req.userId),
      ]);
      return {
        profile: toProfile(profile),
        settings: toSettingsMessage(settings),
        pushTargets: targets.map(({ deviceId, token }) =>
          token.platform === 3
            ? { deviceId, platform: token.platform, webPush: { endpoint: token.endpoint, p256dh: token.p256dh, auth: token.auth } }
            : { deviceId, platform: token.platform, token: token.token },
        ),
      };
    },
    async removePushToken(req) {
      await accounts.removePushToken(req.deviceId, req.token);
      return {};
    },
    async getPresenceVisibility(req) {
      const [hiding, blocked] = await Promise.all([
        accounts.hidingPresence(req.userIds),
        req.viewerId === 0n ? new Set<bigint>() : accounts.blocks.blockedWith(req.viewerId, req.userIds),
      ]);
      return { hiddenUserIds: [...new Set([...hiding, ...blocked])] };
    },
    async checkBlock(req) {
      return accounts.blocks.state(req.userId, req.otherUserId);
    },
    async listFriendIds(req) {
      return { friendIds: (await accounts.friendIdsOf([req.userId])).get(req.userId) ?? [] };
    },
    async listFriendIdsOf(req) {
      checkBatch("user_ids", req.userIds.length, "users");
      const lists = await accounts.friendIdsOf(req.userIds);
      return { lists: req.userIds.map((userId) => ({ userId, friendIds: lists.get(userId) ?? [] })) };
    },
    // Ends without an error when the watcher goes away or the service stops (drain).
    watchAccountEvents(_req, context) {
      return accountEventStream(accounts.events, AbortSignal.any([context.signal, stopping]));
    },
  };
}

/** Most items one batched internal call may carry. */
export const INTERNAL_BATCH_MAX = 1_000;

function checkBatch(field: string, count: number, what: string): void {
  if (count === 0) throw new InvalidInput(field, `must name at least one of the ${what}`);
  if (count > INTERNAL_BATCH_MAX) throw new InvalidInput(field, `must name at most ${INTERNAL_BATCH_MAX} ${what}`);
}

function identity(claims: TokenClaims) {
  return { userId: claims.userId, deviceId: claims.deviceId, sessionId: claims.sessionId, expiresAt: timestampFromDate(claims.expiresAt) };
}

function bearerToken(context: HandlerContext): string {
  const header = context.requestHeader.get("authorization");
  if (header === null) throw new NotAuthenticated("an access token is required (Authorization: Bearer <token>)");
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (match === null) throw new NotAuthenticated('the Authorization header must be "Bearer <access token>"');
  return match[1]!;
}

function optionalId(id: bigint): bigint | undefined {
  return id === 0n ? undefined : id;
}

function userRef(userId: bigint, username: string): UserRef {
  if (userId !== 0n && username !== "") throw new InvalidInput("user", "must be named by user_id or username, not both");
  if (userId !== 0n) return { id: userId };
  if (username !== "") return { username };
  throw new InvalidInput("user", "is required (user_id or username)");
}

export type { TokenClaims };
