import { Code, ConnectError } from "@connectrpc/connect";
import { RetryInfoSchema } from "@parley/contracts/google/rpc/retry_info";
import { isOutage, unavailable } from "@parley/runtime";

/** Base of the account domain's errors; each maps to one status at the edge. */
export abstract class AccountError extends Error {}

/** A request field broke a rule; the message names the field and the rule. */
export class InvalidInput extends AccountError {
  constructor(
    readonly field: string,
    rule: string,
  ) {
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

/** The caller may not do this to that user (a block stands between them). */
export class NotAllowed extends AccountError {}

/** A per-user limit is reached (blocked users); not a brute-force throttle, so no retry hint. */
export class LimitReached extends AccountError {}

/** What was throttled, in the words the client is told (src/limits/auth-limits.ts has the policy). */
const THROTTLED = {
  client: "too many wrong passwords for this account from your network address",
  user: "too many wrong passwords for this account from new places; log in from a network you logged in from before, or",
  address: "too many failed log-ins from your network address",
  sign_ups: "too many sign-ups from your network address",
  refreshes: "too many invalid refresh tokens from your network address",
} as const;

/** A brute-force limit refused the try; it may be made again after `retryAfterMs`. */
export class TooManyAttempts extends AccountError {
  readonly retryAfterMs: number;

  constructor(
    readonly reason: keyof typeof THROTTLED,
    retryAfterMs: number,
  ) {
    const wait = Math.max(1, Math.ceil(retryAfterMs));
    super(`${THROTTLED[reason]}${reason === "user" ? "" : ";"} try again in ${inWords(wait)}`);
    this.retryAfterMs = wait;
  }
}

/** A wait as a person says it, rounded up: "1 second", "45 seconds", "3 minutes", "2 hours". */
export function inWords(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  const [n, unit] = seconds < 60 ? [seconds, "second"] : seconds < 3_600 ? [Math.ceil(seconds / 60), "minute"] : [Math.ceil(seconds / 3_600), "hour"];
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/**
 * RESOURCE_EXHAUSTED with the wait three ways: in words in the message, as
 * the standard google.rpc.RetryInfo error detail (what gRPC and Connect
 * clients read), and as a retry-after header/trailer in whole seconds (as in
 * HTTP, and as PickGateway gives it).
 */
function throttled(err: TooManyAttempts): ConnectError {
  const seconds = BigInt(Math.floor(err.retryAfterMs / 1000));
  const nanos = (err.retryAfterMs % 1000) * 1_000_000;
  return new ConnectError(err.message, Code.ResourceExhausted, { "retry-after": String(Math.ceil(err.retryAfterMs / 1000)) }, [
    { desc: RetryInfoSchema, value: { retryDelay: { seconds, nanos } } },
  ]);
}

export function mapAccountError(err: unknown): ConnectError | undefined {
  if (err instanceof InvalidInput) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof UsernameTaken) return new ConnectError(err.message, Code.AlreadyExists);
  if (err instanceof BadCredentials || err instanceof NotAuthenticated) return new ConnectError(err.message, Code.Unauthenticated);
  if (err instanceof NotFound) return new ConnectError(err.message, Code.NotFound);
  if (err instanceof WrongPassword) return new ConnectError(err.message, Code.PermissionDenied);
  if (err instanceof PushTokenTaken) return new ConnectError(err.message, Code.AlreadyExists);
  if (err instanceof TooManyAttempts) return throttled(err);
  if (err instanceof NotAllowed) return new ConnectError(err.message, Code.PermissionDenied);
  if (err instanceof LimitReached) return new ConnectError(err.message, Code.ResourceExhausted);
  // Account calls no other service on a request's path: a raw outage is the database's.
  if (isOutage(err)) return unavailable("the account store", err);
  return undefined;
}
