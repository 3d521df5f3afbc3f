/**
 * Email adapter: one plain-text message per delivery over SMTP with
 * nodemailer. Subject is the notification title, text its body.
 *
 * A new SMTP connection is opened per message (nodemailer's non-pooled
 * transport): simple and enough for notification volumes; switch to
 * `pool: true` if a relay's connection rate limit is ever hit.
 *
 * Reasons carry SMTP codes and commands only, never the server's reply text,
 * which often echoes the recipient address.
 */
import nodemailer from "nodemailer";
import type { NodemailerError, SMTPSentMessageInfo, Transporter } from "nodemailer";
import type { Content, Outcome, Provider, Target } from "../../ports.js";

export interface EmailProviderOptions {
  host: string;
  port: number;
  /** true for implicit TLS (port 465); false starts in plain text and upgrades with STARTTLS when offered. */
  secure: boolean;
  auth?: { user: string; pass: string };
  /** Do not upgrade with STARTTLS even if offered. Only for a local relay or a test server. */
  ignoreTLS?: boolean;
  /** Sender, e.g. `"Parley" <no-reply@parley.example>`. */
  from: string;
  /** Limit for connecting, for the greeting and for each idle wait. Default 10 s (nodemailer's own are minutes). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** nodemailer codes for "the connection failed or ended", as opposed to a reply that refused the message. */
const CONNECTION_CODES = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS"]);

export class EmailProvider implements Provider {
  readonly channel = "email" as const;
  readonly #transport: Transporter<SMTPSentMessageInfo>;
  readonly #from: string;

  constructor(options: EmailProviderOptions) {
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#transport = nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure,
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.ignoreTLS !== undefined ? { ignoreTLS: options.ignoreTLS } : {}),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
    this.#from = options.from;
  }

  async send(target: Target, content: Content): Promise<Outcome> {
    if (target.channel !== "email") {
      throw new Error(`EmailProvider cannot send to a ${target.channel} target`);
    }
    try {
      const info = await this.#transport.sendMail({
        from: this.#from,
        to: target.address,
        subject: content.title,
        text: content.body,
      });
      if (info.accepted.length > 0) return { kind: "sent", providerId: info.messageId };
      // Only reachable in LMTP mode; SMTP reports an all-rejected envelope as an error.
      return { kind: "invalid-target", reason: "recipient rejected" };
    } catch (error) {
      return classifyError(error as NodemailerError);
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}

function classifyError(error: NodemailerError): Outcome {
  const code = error.responseCode;
  const where = error.command ?? "SMTP";
  if (code !== undefined && code >= 400) {
    const reason = `smtp ${code} on ${where}`;
    // 4xx is transient by RFC 5321; 503 (bad sequence) is a session problem that a new connection clears.
    if (code < 500 || code === 503) return { kind: "retry", reason };
    // A permanent refusal of the recipient (550 no such user, 553 bad mailbox name): drop the address.
    if (where === "RCPT TO") return { kind: "invalid-target", reason };
    // A permanent refusal of the sender or the message (552 too big, 554 rejected as spam): do not retry.
    return { kind: "failed", reason };
  }
  if (error.code !== undefined && CONNECTION_CODES.has(error.code)) {
    return { kind: "retry", reason: `smtp connection: ${error.originalCode ?? error.code}` };
  }
  // nodemailer refused the address itself ("Invalid recipient", "No recipients defined"); the server never saw it.
  if (error.code === "EENVELOPE" && /recipient/i.test(error.message)) {
    return { kind: "invalid-target", reason: "smtp: address not usable" };
  }
  // EAUTH, ECONFIG, an invalid sender, ...: configuration, so retrying changes nothing.
  return { kind: "failed", reason: `smtp: ${error.code ?? error.message}` };
}
