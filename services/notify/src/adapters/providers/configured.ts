import { ConfigError, type Logger } from "@parley/runtime";
import type { NotifyEnv } from "../../config.js";
import { ApnsProvider } from "./apns.js";
import { EmailProvider } from "./email.js";
import { fcmFromServiceAccount } from "./fcm.js";
import type { Channel, Provider } from "../../ports.js";
import { RecordingProvider } from "./recording.js";
import { SmsHttpProvider } from "./sms.js";
import { WebPushProvider } from "./webpush.js";

export const CHANNELS: readonly Channel[] = ["fcm", "apns", "webpush", "email", "sms"];

/**
 * The providers the environment configures, one per channel. A channel with
 * none is skipped with a log line (its deliveries are stored as skipped), or
 * served by the recording provider when `recording` is on (the embedded
 * default). A channel configured halfway is a ConfigError naming what is
 * missing: a typo must not silently turn pushes off.
 */
export function configuredProviders(v: NotifyEnv, recording: boolean, logger: Logger): Map<Channel, Provider> {
  const problems: string[] = [];
  const built = new Map<Channel, Provider>();
  const group = (channel: Channel, names: (keyof NotifyEnv)[], make: () => Provider) => {
    const missing = names.filter((name) => v[name] === undefined);
    if (missing.length === names.length) return;
    if (missing.length > 0) {
      problems.push(`${missing.join(", ")}: required with ${names.filter((n) => !missing.includes(n)).join(", ")} (${channel} is configured halfway)`);
      return;
    }
    try {
      built.set(channel, make());
    } catch (err) {
      problems.push(`${names[0]}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  group("fcm", ["FCM_SERVICE_ACCOUNT_JSON"], () => fcmFromServiceAccount(v.FCM_SERVICE_ACCOUNT_JSON!));
  group("apns", ["APNS_TEAM_ID", "APNS_KEY_ID", "APNS_PRIVATE_KEY", "APNS_TOPIC"], () => {
    return new ApnsProvider({
      url: v.APNS_URL,
      teamId: v.APNS_TEAM_ID!,
      keyId: v.APNS_KEY_ID!,
      privateKeyPem: v.APNS_PRIVATE_KEY!.replace(/\\n/g, "\n"),
      topic: v.APNS_TOPIC!,
    });
  });
  group("webpush", ["WEBPUSH_VAPID_SUBJECT", "WEBPUSH_VAPID_PUBLIC_KEY", "WEBPUSH_VAPID_PRIVATE_KEY"], () => {
    return new WebPushProvider({
      vapid: { subject: v.WEBPUSH_VAPID_SUBJECT!, publicKey: v.WEBPUSH_VAPID_PUBLIC_KEY!, privateKey: v.WEBPUSH_VAPID_PRIVATE_KEY! },
    });
  });
  group("email", ["SMTP_URL", "EMAIL_FROM"], () => emailFromUrl(v.SMTP_URL!, v.EMAIL_FROM!));
  group("sms", ["SMS_API_URL", "SMS_API_TOKEN"], () => {
    if (!/^https?:\/\//.test(v.SMS_API_URL!)) throw new Error("must be an http(s) URL");
    return new SmsHttpProvider({ url: v.SMS_API_URL!, token: v.SMS_API_TOKEN! });
  });
  if (problems.length > 0) {
    for (const provider of built.values()) void provider.close();
    throw new ConfigError(problems);
  }
  for (const channel of CHANNELS) {
    if (built.has(channel)) continue;
    if (recording) built.set(channel, new RecordingProvider({ channel, logger }));
    else logger.info({ channel }, "no provider configured for this channel: its deliveries are skipped");
  }
  return built;
}

/** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://host:465 (implicit TLS). */
function emailFromUrl(raw: string, from: string): EmailProvider {
  const url = new URL(raw);
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") throw new Error("must be an smtp:// or smtps:// URL");
  const secure = url.protocol === "smtps:";
  return new EmailProvider({
    host: url.hostname,
    port: url.port === "" ? (secure ? 465 : 587) : Number(url.port),
    secure,
    ...(url.username !== "" ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    from,
  });
}

/** For metrics and logs: which kind of provider serves a channel. */
export function providerName(provider: Provider): string {
  return provider instanceof RecordingProvider ? "recording" : provider.channel;
}
