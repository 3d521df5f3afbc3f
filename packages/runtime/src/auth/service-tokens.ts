import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { SigningKey } from "./keys.js";
import type { Principal } from "./principals.js";
import type { TrustStore } from "./trust-store.js";

/** The JWT `typ` of service tokens, so a user's access token can never pass for one. */
const TOKEN_TYPE = "parley-service+jwt";

/** Where a signer gets its current key: a key file that may be rotated, or a fixed in-memory key. */
export interface SigningKeySource {
  readonly current: SigningKey;
}

/**
 * Mints this process's short-lived service tokens: an EdDSA JWT naming the
 * caller (`iss`) and the service it is for (`aud`), valid for `ttlSeconds`.
 * One token per audience is reused until half its life is gone, so signing
 * costs nothing per call; a rotated key is used from the next token on.
 */
export class ServiceTokenSigner {
  readonly #cache = new Map<string, { token: string; renewAt: number; kid: string }>();

  constructor(
    readonly principal: Principal,
    private readonly keys: SigningKeySource,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async token(audience: string): Promise<string> {
    const key = this.keys.current;
    const cached = this.#cache.get(audience);
    if (cached !== undefined && cached.kid === key.kid && this.now() < cached.renewAt) return cached.token;
    const issuedAt = Math.floor(this.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: TOKEN_TYPE })
      .setIssuer(this.principal.name)
      .setAudience(audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.ttlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
    this.#cache.set(audience, { token, renewAt: this.now() + (this.ttlSeconds * 1000) / 2, kid: key.kid });
    return token;
  }
}

export interface VerifiedCaller {
  readonly principal: Principal;
  /** The key the token was signed with: calls and streams made with it end if it stops being trusted. */
  readonly kid: string;
}

export interface VerifierOptions {
  /** Tokens living longer than this are refused, whatever they say: service tokens must be short-lived. */
  maxTtlSeconds: number;
  /** Clock difference tolerated between hosts. */
  clockToleranceSeconds: number;
  now?: () => number;
}

/** Verified tokens remembered at most; a full cache drops expired entries, then everything. */
const CACHE_LIMIT = 10_000;

/**
 * Checks service tokens against the trust store. A token is accepted when
 * its key is trusted, its signature, type, audience and lifetime are right,
 * and its `iss` is the principal the key belongs to. A verified token is
 * remembered until it expires, so a caller's steady traffic costs one
 * signature check per token, not per call; a key removed from the trust
 * file stops working at once, cached or not.
 */
export class ServiceTokenVerifier {
  readonly #cache = new Map<string, { caller: VerifiedCaller; expiresAt: number }>();
  readonly #now: () => number;

  constructor(
    private readonly trust: TrustStore,
    private readonly options: VerifierOptions,
  ) {
    this.#now = options.now ?? Date.now;
  }

  /** The caller, or a ConnectError (UNAUTHENTICATED) saying what is wrong with the token. `audience`: one, or any of several. */
  async verify(token: string, audience: string | readonly string[]): Promise<VerifiedCaller> {
    const cacheKey = `${typeof audience === "string" ? audience : audience.join(",")} ${token}`;
    const cached = this.#cache.get(cacheKey);
    if (cached !== undefined && this.#now() < cached.expiresAt && this.isTrusted(cached.caller)) return cached.caller;

    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      kid = typeof header.kid === "string" ? header.kid : undefined;
      if (header.typ !== TOKEN_TYPE) throw refuse(`the service token must have typ "${TOKEN_TYPE}"`);
    } catch (err) {
      if (err instanceof ConnectError) throw err;
      throw refuse("the service token is not a JWT");
    }
    const trusted = kid === undefined ? undefined : this.trust.lookup(kid);
    if (trusted === undefined) throw refuse("the service token is signed with a key this service does not trust");

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, trusted.key, {
        algorithms: ["EdDSA"],
        typ: TOKEN_TYPE,
        issuer: trusted.principal.name,
        audience: typeof audience === "string" ? audience : [...audience],
        requiredClaims: ["iss", "aud", "iat", "exp"],
        clockTolerance: this.options.clockToleranceSeconds,
        currentDate: new Date(this.#now()),
      }));
    } catch (err) {
      throw refuse(explain(err, audience, trusted.principal.name));
    }
    if ((payload.exp as number) - (payload.iat as number) > this.options.maxTtlSeconds) {
      throw refuse(`the service token lives longer than the ${this.options.maxTtlSeconds} s allowed`);
    }
    const caller = Object.freeze({ principal: trusted.principal, kid: trusted.kid });
    this.#remember(cacheKey, caller, (payload.exp as number) * 1000);
    return caller;
  }

  /** Whether the caller's key is still trusted for the same principal (after a trust file reload). */
  isTrusted(caller: VerifiedCaller): boolean {
    return this.trust.lookup(caller.kid)?.principal.name === caller.principal.name;
  }

  #remember(cacheKey: string, caller: VerifiedCaller, expiresAt: number): void {
    if (this.#cache.size >= CACHE_LIMIT) {
      const now = this.#now();
      for (const [key, entry] of this.#cache) if (entry.expiresAt <= now) this.#cache.delete(key);
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    }
    this.#cache.set(cacheKey, { caller, expiresAt });
  }
}

function refuse(message: string): ConnectError {
  return new ConnectError(message, Code.Unauthenticated);
}

function explain(err: unknown, audience: string | readonly string[], issuer: string): string {
  if (err instanceof joseErrors.JWTExpired) return "the service token has expired";
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === "aud") return `the service token is not meant for ${typeof audience === "string" ? audience : audience.join(" or ")}`;
    if (err.claim === "iss") return `the service token's issuer is not ${issuer}, whose key signed it`;
    if (err.claim === "iat" || err.claim === "nbf") return "the service token is not valid yet (check the clocks)";
    return `the service token's ${err.claim} claim is not valid`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "the service token's signature is not valid";
  return "the service token is not valid";
}
