import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { NotAuthenticated } from "./errors.js";

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
 * Refresh tokens are opaque: `<session id>.<32 random bytes>`. Only a SHA-256
 * of the secret part is stored, so a database leak does not leak sessions.
 */
export const refreshTokens = {
  create(sessionId: bigint): { token: string; hash: string } {
    const secret = randomBytes(32).toString("base64url");
    return { token: `${sessionId}.${secret}`, hash: sha256(secret) };
  },
  parse(token: string): { sessionId: bigint; secret: string } {
    const match = /^(\d{1,19})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (match === null) throw new NotAuthenticated("the refresh token is not valid");
    return { sessionId: BigInt(match[1]!), secret: match[2]! };
  },
  matches(secret: string, hash: string): boolean {
    const a = Buffer.from(sha256(secret));
    const b = Buffer.from(hash);
    return a.length === b.length && timingSafeEqual(a, b);
  },
};

function sha256(value: string): string {
  return createHash("sha256").update(value).digest("base64url");
}
