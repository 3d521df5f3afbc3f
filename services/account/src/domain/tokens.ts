import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { NotAuthenticated } from "../errors.js";

/** What an access token proves. */
export interface TokenClaims {
  userId: bigint;
  deviceId: bigint;
  sessionId: bigint;
  expiresAt: Date;
}

const ISSUER = "parley";
const AUDIENCE = "parley";

/**
 * Access tokens are HS256 JWTs signed with the account service's key, and
 * name the user (sub), the device (did) and the session (sid). A valid
 * signature is not enough: the session must also still be live, which the
 * account domain checks, so logging out takes effect at once.
 */
export class AccessTokens {
  constructor(
    private readonly key: Uint8Array,
    private readonly ttlSeconds: number,
    private readonly now: () => number,
  ) {}

  async issue(userId: bigint, deviceId: bigint, sessionId: bigint): Promise<{ token: string; expiresAt: Date }> {
    const issuedAt = Math.floor(this.now() / 1000);
    const expiresAt = issuedAt + this.ttlSeconds;
    const token = await new SignJWT({ did: deviceId.toString(), sid: sessionId.toString() })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(userId.toString())
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }

  async verify(token: string): Promise<TokenClaims> {
    if (token === "") throw new NotAuthenticated("an access token is required (Authorization: Bearer <token>)");
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ["HS256"],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: new Date(this.now()),
        requiredClaims: ["sub", "exp", "did", "sid"],
      });
      return {
        userId: BigInt(payload.sub as string),
        deviceId: BigInt(payload.did as string),
        sessionId: BigInt(payload.sid as string),
        expiresAt: new Date((payload.exp as number) * 1000),
      };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new NotAuthenticated("the access token has expired; refresh the session or log in again");
      throw new NotAuthenticated("the access token is not valid");
    }
  }
}

/**
 * Refresh tokens are opaque: `<handle>.<secret>`. The handle (16 random
 * bytes) names the session, so it can be found without a scan; the secret
 * (32 random bytes) proves the token was issued. Neither is the sequential
 * session id, so a refresh token tells nothing about other sessions.
 *
 * What a database leak gives away: handles are stored as they are, since
 * a handle alone is no credential (a token with a known handle and a wrong
 * secret is refused and changes nothing); secrets are stored only as
 * SHA-256, current and recently used alike. A 256-bit random secret needs
 * no salt or slow hash: there is no dictionary to try.
 *
 * Sessions started before handles existed (migration 4) have their session
 * id, in digits, as their handle; their first refresh gives them a random one.
 */
export const refreshTokens = {
  newHandle(): string {
    return randomBytes(16).toString("base64url");
  },
  /** A handle from before migration 4, which the next refresh replaces. */
  isLegacyHandle(handle: string): boolean {
    return /^\d+$/.test(handle);
  },
  create(handle: string): { token: string; hash: string } {
    const secret = randomBytes(32).toString("base64url");
    return { token: `${handle}.${secret}`, hash: sha256(secret) };
  },
  parse(token: string): { handle: string; hash: string } {
    const match = /^([A-Za-z0-9_-]{22}|\d{1,19})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (match === null) throw new NotAuthenticated("the refresh token is not valid");
    return { handle: match[1]!, hash: sha256(match[2]!) };
  },
  /** Constant-time comparison of two stored-form hashes. */
  same(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  },
};

function sha256(value: string): string {
  return createHash("sha256").update(value).digest("base64url");
}
