import { InvalidInput } from "../errors.js";
import type { PushToken } from "../ports.js";

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Checks a push token as the client sent it. Platform 0 (unspecified) means
 * "remove the token". FCM tokens are opaque (at most 4 KiB); APNs device
 * tokens are hex; Web Push subscriptions need an https endpoint and the
 * subscriber's keys (base64url).
 */
export function checkPushToken(platform: number, token: string, web: { endpoint: string; p256dh: string; auth: string } | undefined): PushToken | undefined {
  if (platform === 0) return undefined;
  if (platform === 1) {
    if (token === "" || token.length > 4096) throw new InvalidInput("token", "must be an FCM registration token (1 to 4096 characters)");
    return { platform: 1, token };
  }
  if (platform === 2) {
    if (!/^[0-9a-fA-F]{64,200}$/.test(token)) throw new InvalidInput("token", "must be an APNs device token (hex)");
    return { platform: 2, token: token.toLowerCase() };
  }
  if (platform === 3) {
    if (!web) throw new InvalidInput("web_push", "is required for WEB_PUSH");
    let url: URL;
    try {
      url = new URL(web.endpoint);
    } catch {
      throw new InvalidInput("web_push.endpoint", "must be a URL");
    }
    if (url.protocol !== "https:" || web.endpoint.length > 2048) throw new InvalidInput("web_push.endpoint", "must be an https URL of at most 2048 characters");
    if (!BASE64URL.test(web.p256dh) || !BASE64URL.test(web.auth)) throw new InvalidInput("web_push", "p256dh and auth must be base64url");
    return { platform: 3, endpoint: web.endpoint, p256dh: web.p256dh, auth: web.auth };
  }
  throw new InvalidInput("platform", "must be FCM, APNS, WEB_PUSH or UNSPECIFIED (to remove the token)");
}
