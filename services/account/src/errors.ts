import { Code, ConnectError } from "@connectrpc/connect";
import { isOutage, unavailable } from "@parley/runtime";

/** Base of the account domain's errors; each maps to one status at the edge. */
export abstract class AccountError extends Error {}

/** A request field broke a rule; the message names the field and the rule. */
export class InvalidInput extends AccountError {
  constructor(readonly field: string, rule: string) {
    super(`${field} ${rule}`);
  }
}

export class UsernameTaken extends AccountError {
  constructor(username: string) {
    super(`the username "${username}" is taken`);
  }
}

/** Wrong username or password; deliberately the same message for both. */
export class BadCredentials extends AccountError {
  constructor() {
    super("wrong username or password");
  }
}

/** A missing, malformed, expired, tampered or revoked token. */
export class NotAuthenticated extends AccountError {}

export class NotFound extends AccountError {}

/**
 * The current password given to confirm a change is wrong. Not
 * NotAuthenticated: the caller's token is fine, and a client that signs out
 * on UNAUTHENTICATED must not do so for a typo.
 */
export class WrongPassword extends AccountError {
  constructor() {
    super("current_password is wrong");
  }
}

/** A push token another user's logged-in device holds (see SetPushToken in the contract). */
export class PushTokenTaken extends AccountError {
  constructor() {
    super("this push token is registered to a device of another account; it can be registered here once that device logs out");
  }
}

export function mapAccountError(err: unknown): ConnectError | undefined {
  if (err instanceof InvalidInput) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof UsernameTaken) return new ConnectError(err.message, Code.AlreadyExists);
  if (err instanceof BadCredentials || err instanceof NotAuthenticated) return new ConnectError(err.message, Code.Unauthenticated);
  if (err instanceof NotFound) return new ConnectError(err.message, Code.NotFound);
  if (err instanceof WrongPassword) return new ConnectError(err.message, Code.PermissionDenied);
  if (err instanceof PushTokenTaken) return new ConnectError(err.message, Code.AlreadyExists);
  // Account calls no other service on a request's path: a raw outage is the database's.
  if (isOutage(err)) return unavailable("the account store", err);
  return undefined;
}
