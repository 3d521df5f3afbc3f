import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { NotifyService } from "@parley/contracts/parley/notify/v1/notify";

/**
 * Internal callers authenticate with an app key and secret sent as HTTP
 * Basic credentials on every call. Secrets are compared as SHA-256 digests
 * in constant time, so neither their length nor a prefix leaks. Only
 * NotifyService is guarded; health checks stay open for probes.
 */
export function callerAuth(callers: ReadonlyMap<string, string>): Interceptor {
  const digests = new Map([...callers].map(([key, secret]) => [key, digest(secret)]));
  return (next) => async (req) => {
    if (req.service.typeName !== NotifyService.typeName) return next(req);
    const credentials = parseBasic(req.header.get("authorization"));
    const expected = credentials && digests.get(credentials.key);
    if (!credentials || !expected || !timingSafeEqual(expected, digest(credentials.secret))) {
      throw new ConnectError("valid app credentials are required (authorization: Basic base64(app_key:app_secret))", Code.Unauthenticated);
    }
    return next(req);
  };
}

/** The header value a caller sends. */
export function basicAuthorization(appKey: string, appSecret: string): string {
  return `Basic ${Buffer.from(`${appKey}:${appSecret}`).toString("base64")}`;
}

function parseBasic(header: string | null): { key: string; secret: string } | undefined {
  const match = header === null ? null : /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon <= 0 ? undefined : { key: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

function digest(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}
