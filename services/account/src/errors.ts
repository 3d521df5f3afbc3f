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

export function mapAccountError(err: unknown): ConnectError | undefined {
  if (err instanceof InvalidInput) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof UsernameTaken) return new ConnectError(err.message, Code.AlreadyExists);
  if (err instanceof BadCredentials || err instanceof NotAuthenticated) return new ConnectError(err.message, Code.Unauthenticated);
  if (err instanceof NotFound) return new ConnectError(err.message, Code.NotFound);
  // Account calls no other service on a request's path: a raw outage is the database's.
  if (isOutage(err)) return unavailable("the account store", err);
  return undefined;
}
