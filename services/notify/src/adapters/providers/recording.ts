import type { Logger } from "@parley/runtime";
import type { Channel, Content, Outcome, Provider, Target } from "../../ports.js";

export interface RecordedSend {
  target: Target;
  content: Content;
  at: Date;
}

export interface RecordingOptions {
  channel: Channel;
  logger: Logger;
  /** How many sends to keep; the oldest go first. Default 1000. */
  capacity?: number;
}

/**
 * The embedded mode's provider: nothing leaves the process. Every send
 * succeeds, is kept in memory (single process, lost on restart, bounded) for
 * a developer or a test to look at, and is logged without its text.
 */
export class RecordingProvider implements Provider {
  readonly channel: Channel;
  readonly #logger: Logger;
  readonly #capacity: number;
  readonly #sent: RecordedSend[] = [];

  constructor(options: RecordingOptions) {
    this.channel = options.channel;
    this.#logger = options.logger;
    this.#capacity = options.capacity ?? 1000;
    if (!Number.isInteger(this.#capacity) || this.#capacity < 1) throw new Error("capacity must be a positive integer");
  }

  /** Oldest first. */
  get sent(): readonly RecordedSend[] {
    return this.#sent;
  }

  async send(target: Target, content: Content): Promise<Outcome> {
    if (target.channel !== this.channel) {
      throw new Error(`RecordingProvider(${this.channel}) cannot send to a ${target.channel} target`);
    }
    this.#sent.push({ target, content: { ...content, data: { ...content.data } }, at: new Date() });
    if (this.#sent.length > this.#capacity) this.#sent.shift();
    // Title and body are message text, and the target is a personal address: log the shape and the ids only.
    this.#logger.info(
      {
        channel: this.channel,
        targetKind: targetKind(target),
        data: content.data,
        collapseKey: content.collapseKey,
        badge: content.badge,
        titleLength: content.title.length,
        bodyLength: content.body.length,
      },
      "notification recorded (would have been sent)",
    );
    return { kind: "sent" };
  }

  async close(): Promise<void> {}
}

function targetKind(target: Target): "token" | "subscription" | "address" | "phone" {
  switch (target.channel) {
    case "fcm":
    case "apns":
      return "token";
    case "webpush":
      return "subscription";
    case "email":
      return "address";
    case "sms":
      return "phone";
  }
}
