import { SessionEndReason } from "@parley/contracts/parley/account/v1/account";
import { CloseCode } from "@parley/contracts/parley/client/v1/client";

/**
 * The close code and reason a socket gets when its session ends, by why it
 * ended (docs/protocol.md, close codes). A reason this gateway does not know
 * yet closes as a revocation: the token is dead either way, and 4102 tells
 * the client to refresh or log in again.
 */
export function sessionEndClose(reason: SessionEndReason): { code: CloseCode; reason: string } {
  switch (reason) {
    case SessionEndReason.LOGGED_OUT:
      return { code: CloseCode.LOGGED_OUT, reason: "device logged out" };
    case SessionEndReason.PASSWORD_CHANGED:
      return { code: CloseCode.PASSWORD_CHANGED, reason: "password changed; log in again" };
    case SessionEndReason.ACCOUNT_DISABLED:
      return { code: CloseCode.ACCOUNT_DISABLED, reason: "account disabled" };
    case SessionEndReason.REPLACED:
      return { code: CloseCode.SESSION_REVOKED, reason: "the device logged in again; use its newest tokens" };
    default:
      return { code: CloseCode.SESSION_REVOKED, reason: "session revoked; refresh or log in again" };
  }
}
