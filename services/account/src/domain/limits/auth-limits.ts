import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { TooManyAttempts } from "../../errors.js";
import { addressKey, counterKey } from "./client-keys.js";
import { FailureLockout, type Counted } from "./failure-lockout.js";
import type { CounterFactory } from "../../ports.js";

export interface AuthLimitSettings {
  /** Wrong passwords in a row free per (client address, username) before lockouts start. */
  freeFailuresPerClient: number;
  /** Wrong passwords in a row free per username from addresses it never logged in from. */
  freeFailuresPerUser: number;
  /** Failed log-ins in a row free per client address, across usernames. */
  freeFailuresPerAddress: number;
  /** Refused refresh tokens in a row free per client address. */
  freeRefreshFailuresPerAddress: number;
  /** The first lockout (s); each failure after it doubles it. */
  lockoutBaseSeconds: number;
  /** The longest lockout of an (address, username) pair or an address (s). */
  lockoutMaxSeconds: number;
  /** The longest lockout of a username from new addresses (s): short, because anyone can cause it. */
  userLockoutMaxSeconds: number;
  /** How long failures are remembered without a success (s). */
  failureWindowSeconds: number;
  /** How long a successful log-in makes its (address, username) pair known (s). */
  knownAddressSeconds: number;
  /** Sign-up attempts per client address per hour; 0: no limit. */
  signUpsPerAddressPerHour: number;
}

/** How a counted try ended. */
export type Outcome = "succeeded" | "failed" | "abandoned";

/** A try that was let through; report its outcome once known. */
export interface AllowedTry {
  settle(outcome: Outcome): Promise<void>;
}

/**
 * The brute-force policy of the account service, for everything that checks
 * a password (LogIn and ChangePassword, which a holder of a stolen access
 * token could use to guess the current password) and for SignUp and
 * RefreshSession. The model is that of large sign-in services (OWASP's
 * authentication guidance, Azure AD's smart lockout): count failures per
 * attacker and per victim, lock out for exponentially growing times, and
 * never let an attacker lock a user out everywhere.
 *
 * Password guesses (LogIn, and a wrong current password on ChangePassword)
 * count in three ways at once; a try must pass all that apply:
 * - per (client address, username), strict: `freeFailuresPerClient` (5)
 *   wrong passwords, then lockouts of base, 2 x base... up to
 *   `lockoutMaxSeconds` (10 s doubling to 15 min by default; about a hundred
 *   guesses a day). While locked even the right password is refused (else
 *   the answer would tell the guess was right). This is what stops a guesser,
 *   and it only ever locks out the guesser's own address.
 * - per username from any address, slower and bounded:
 *   `freeFailuresPerUser` (20), then lockouts capped at
 *   `userLockoutMaxSeconds` (5 min). It slows an attacker who spreads
 *   guesses over many addresses. Since anyone can trigger it, it never
 *   applies to an address the user has logged in from in the last
 *   `knownAddressSeconds` (30 days): a user whose name is under attack still
 *   logs in from home or from their phone's usual network at once, and from
 *   elsewhere waits at most a few minutes.
 * - per client address across usernames (`freeFailuresPerAddress`, 100):
 *   password spraying and credential stuffing from one address. Also
 *   skipped for known (address, username) pairs, so users behind a shared
 *   address (an office, a carrier's NAT) are not locked out by one bad
 *   neighbour.
 * A successful log-in clears the pair's and the username's counts (the
 * per-account counters) and marks the pair as known; it does not clear the
 * address's count of failures across other usernames. Unknown usernames are
 * counted exactly like real ones, so the answers never tell which exist.
 *
 * SignUp: `signUpsPerAddressPerHour` (20) attempts per client address per
 * hour, counted after the input rules pass (each costs a password hash, and
 * "username taken" answers would otherwise enumerate usernames at speed).
 *
 * RefreshSession: refused refresh tokens per client address
 * (`freeRefreshFailuresPerAddress`, 20), then lockouts as above. There is no
 * per-account count: a refresh token names its session only through a random
 * handle, its secret has 256 bits (nothing to guess), and a replayed one ends
 * the session; what a flood can do is cost lookups, which this bounds.
 *
 * Addresses are the end user's as the gateway saw them (IPv6 by /64); calls
 * that name no address share one budget. Counts live in the shared database
 * when there is one, so they hold across every account instance and gateway.
 */
export class AuthLimits {
  private readonly pair: FailureLockout;
  private readonly user: FailureLockout;
  private readonly address: FailureLockout;
  private readonly refreshes: FailureLockout;
  private readonly known: RateLimiterAbstract;
  private readonly signUps: RateLimiterAbstract | undefined;

  constructor(settings: AuthLimitSettings, counters: CounterFactory) {
    const rule = (free: number, maxSeconds: number) => ({
      free,
      baseSeconds: settings.lockoutBaseSeconds,
      maxSeconds,
      windowSeconds: settings.failureWindowSeconds,
    });
    this.pair = new FailureLockout("login_pair", rule(settings.freeFailuresPerClient, settings.lockoutMaxSeconds), counters);
    this.user = new FailureLockout("login_user", rule(settings.freeFailuresPerUser, settings.userLockoutMaxSeconds), counters);
    this.address = new FailureLockout("login_address", rule(settings.freeFailuresPerAddress, settings.lockoutMaxSeconds), counters);
    this.refreshes = new FailureLockout("refresh_address", rule(settings.freeRefreshFailuresPerAddress, settings.lockoutMaxSeconds), counters);
    this.known = counters({ keyPrefix: "login_known", points: 1, duration: settings.knownAddressSeconds });
    this.signUps =
      settings.signUpsPerAddressPerHour === 0
        ? undefined
        : counters({ keyPrefix: "signup_address", points: settings.signUpsPerAddressPerHour, duration: 3_600 });
  }

  /**
   * Lets a password check for `username` from `client` go ahead, or throws
   * TooManyAttempts. `username` as stored (lower case).
   */
  async passwordTry(username: string, client: string | undefined): Promise<AllowedTry> {
    const address = addressKey(client);
    const pairKey = counterKey("pair", address, username);
    const known = (await this.known.get(pairKey)) !== null;
    const checks: { lockout: FailureLockout; key: string; reason: TooManyAttempts["reason"] }[] = [
      { lockout: this.pair, key: pairKey, reason: "client" },
      ...(known
        ? []
        : [
            { lockout: this.user, key: counterKey("user", username), reason: "user" as const },
            { lockout: this.address, key: counterKey("address", address), reason: "address" as const },
          ]),
    ];
    const counted = await countAll(checks);
    return {
      settle: async (outcome) => {
        if (outcome === "succeeded") {
          // The per-account counts are cleared; the address's count across usernames only takes this try back.
          await Promise.all(counted.map((c) => (c.lockout === this.address ? c.lockout.uncount(c.tried) : c.lockout.succeeded(c.tried))));
          // For as long as the counter lives (knownAddressSeconds, or less in memory: see limiters.ts).
          await this.known.set(pairKey, 1, this.known.duration);
        } else {
          await settleAll(counted, outcome);
        }
      },
    };
  }

  /** Counts a sign-up attempt from `client`, or throws TooManyAttempts. */
  async signUp(client: string | undefined): Promise<void> {
    if (this.signUps === undefined) return;
    try {
      await this.signUps.consume(counterKey("address", addressKey(client)));
    } catch (err) {
      if (err instanceof RateLimiterRes) throw new TooManyAttempts("sign_ups", err.msBeforeNext);
      throw err;
    }
  }

  /** Lets a refresh from `client` go ahead, or throws TooManyAttempts; a refused token is settled "failed". */
  async refreshTry(client: string | undefined): Promise<AllowedTry> {
    const counted = await countAll([{ lockout: this.refreshes, key: counterKey("address", addressKey(client)), reason: "refreshes" }]);
    return {
      // A refresh that worked proves only that this token was good, not that the address is: it takes its own try back.
      settle: (outcome) => settleAll(counted, outcome === "succeeded" ? "abandoned" : outcome),
    };
  }
}

interface CountedTry {
  lockout: FailureLockout;
  tried: Counted;
}

/**
 * Counts a try against every check, or throws TooManyAttempts with the
 * longest wait among the checks that refuse it (taking back the counts
 * already made). Locks are read first, so a locked key is refused without
 * being counted.
 */
async function countAll(checks: readonly { lockout: FailureLockout; key: string; reason: TooManyAttempts["reason"] }[]): Promise<CountedTry[]> {
  const locked = await Promise.all(checks.map((c) => c.lockout.lockedForMs(c.key)));
  throwLongest(checks, locked);
  const results = await Promise.all(checks.map((c) => c.lockout.count(c.key)));
  const counted: CountedTry[] = [];
  const refused = results.map((r) => ("refusedForMs" in r ? r.refusedForMs : 0));
  results.forEach((r, i) => {
    if (!("refusedForMs" in r)) counted.push({ lockout: checks[i]!.lockout, tried: r });
  });
  if (refused.some((ms) => ms > 0)) {
    await settleAll(counted, "abandoned");
    throwLongest(checks, refused);
  }
  return counted;
}

function throwLongest(checks: readonly { reason: TooManyAttempts["reason"] }[], waitsMs: readonly number[]): void {
  let longest = -1;
  waitsMs.forEach((ms, i) => {
    if (ms > 0 && (longest < 0 || ms > waitsMs[longest]!)) longest = i;
  });
  if (longest >= 0) throw new TooManyAttempts(checks[longest]!.reason, waitsMs[longest]!);
}

async function settleAll(counted: readonly CountedTry[], outcome: Outcome): Promise<void> {
  await Promise.all(
    counted.map(({ lockout, tried }) =>
      outcome === "succeeded" ? lockout.succeeded(tried) : outcome === "failed" ? lockout.failed(tried) : lockout.uncount(tried),
    ),
  );
}
