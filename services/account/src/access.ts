import { AccountInternalService, AccountModerationService, AccountService } from "@parley/contracts/parley/account/v1/account";
import { accessPolicy } from "@parley/runtime";

/**
 * Who may call account. The public API is reached only through the gateway,
 * which passes the end user's own access token (checked here) and the
 * client's address. Contact points and push tokens (GetNotificationTargets)
 * are for notify alone. Moderation is for operators alone, and never on the
 * gateway's public port (the gateway serves AccountService only).
 */
export const accountAccess = accessPolicy(
  [AccountService.typeName, { audience: "account", otherwise: { roles: ["gateway"], actingUser: "optional" } }],
  [
    AccountInternalService.typeName,
    {
      audience: "account",
      methods: {
        VerifyToken: { roles: ["gateway"] },
        VerifyTokens: { roles: ["gateway"] },
        GetUsers: { roles: ["chat", "operator"] },
        CheckFriendship: { roles: ["chat", "presence"] },
        ListFriendIds: { roles: ["presence"] },
        ListFriendIdsOf: { roles: ["presence"] },
        GetPresenceVisibility: { roles: ["presence"] },
        GetNotificationTargets: { roles: ["notify"] },
        RemovePushToken: { roles: ["notify"] },
        WatchAccountEvents: { roles: ["gateway", "notify", "chat"] },
        CheckBlock: { roles: ["chat"] },
      },
    },
  ],
  [AccountModerationService.typeName, { audience: "account", otherwise: { roles: ["operator"] } }],
);
