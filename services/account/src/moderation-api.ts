import type { ServiceImpl } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { AccountModerationService } from "@parley/contracts/parley/account/v1/account";
import { audited, type Logger } from "@parley/runtime";
import { toProfile } from "./convert.js";
import type { Accounts } from "./domain/accounts.js";
import { InvalidInput } from "./errors.js";

/**
 * AccountModerationService: operators' calls (the access policy lets only
 * the operator role in). Every call, refused or not, is written as one audit
 * line: `"audit":true`, the operator's principal, the action, the target and
 * the result (ok, or the error's message). Never the reason's text beyond
 * what the operator wrote, never a token.
 */
export function moderationApi(accounts: Accounts, logger: Logger): ServiceImpl<typeof AccountModerationService> {
  const moderation = accounts.moderation;
  return {
    findUser: (req, context) =>
      audited(logger, context, "find_user", { userId: req.userId, username: req.username }, async () => {
        if (req.userId !== 0n && req.username !== "") throw new InvalidInput("user", "must be named by user_id or username, not both");
        if (req.userId === 0n && req.username === "") throw new InvalidInput("user", "is required (user_id or username)");
        const found = await moderation.find(req.userId !== 0n ? { id: req.userId } : { username: req.username });
        return {
          profile: toProfile(found.user),
          liveSessions: found.liveSessions,
          ...(found.disabledAt ? { disabledAt: timestampFromDate(found.disabledAt) } : {}),
        };
      }),
    disableAccount: (req, context) =>
      audited(logger, context, "disable_account", { userId: req.userId, reason: req.reason }, async () => {
        const { wasDisabled, ended } = await moderation.disable(req.userId, req.reason);
        return { wasDisabled, endedSessionIds: ended };
      }),
    enableAccount: (req, context) =>
      audited(logger, context, "enable_account", { userId: req.userId }, async () => ({ wasDisabled: await moderation.enable(req.userId) })),
    listSessions: (req, context) =>
      audited(logger, context, "list_sessions", { userId: req.userId }, async () => ({
        sessions: (await moderation.sessions(req.userId)).map((s) => ({
          sessionId: s.sessionId,
          deviceId: s.deviceId,
          deviceName: s.deviceName,
          createdAt: timestampFromDate(s.createdAt),
          lastSeenAt: timestampFromDate(s.lastSeenAt),
        })),
      })),
    endSession: (req, context) =>
      audited(logger, context, "end_session", { userId: req.userId, sessionId: req.sessionId }, async () => {
        await moderation.endSession(req.userId, req.sessionId);
        return {};
      }),
  };
}
