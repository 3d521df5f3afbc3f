import type { BackoffOptions, Logger } from "@parley/runtime";
import type { Channel, Content, DeliveryJob, JobStore, Outcome, Provider, StoredNotification, TargetDirectory } from "../ports.js";
import { retryDelayMs } from "./retry-delay.js";
import { Wakeup } from "./wakeup.js";

/** What happened to one attempt, for metrics. */
export type AttemptResult = "sent" | "retry" | "dead" | "rejected";

export interface DispatcherOptions {
  store: JobStore;
  providers: ReadonlyMap<Channel, Provider>;
  directory: TargetDirectory;
  maxAttempts: number;
  backoff: BackoffOptions;
  leaseMs: number;
  pollMs: number;
  /** Sends in flight per channel. */
  concurrency: number;
  logger: Logger;
  onAttempt?: (channel: Channel, result: AttemptResult) => void;
  now?: () => Date;
}

/**
 * The workers: one loop per channel leases due jobs for that channel only
 * and sends them through its provider, at most `concurrency` at a time, so
 * a provider that is down or slow holds up its own channel and nothing
 * else. Each outcome is recorded on the job: sent, retried later with
 * backoff, dead after maxAttempts, or rejected for good (an invalid token is
 * also removed from its device). A job whose worker dies mid-send is leased
 * again when its lease runs out: delivery is at least once, and the device
 * collapses repeats by the notification's collapse key.
 */
export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #now: () => Date;
  readonly #wakeups = new Map<Channel, Wakeup>();
  readonly #inFlight = new Map<Channel, number>();
  #loops: Promise<void>[] = [];
  #stopped = false;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  start(): void {
    for (const [channel, provider] of this.#o.providers) {
      this.#wakeups.set(channel, new Wakeup());
      this.#inFlight.set(channel, 0);
      this.#loops.push(this.#run(channel, provider));
    }
  }

  /** New or retried work on these channels: look now instead of at the next poll. */
  wake(channels: Iterable<Channel>): void {
    for (const channel of channels) this.#wakeups.get(channel)?.wake();
  }

  /** Stops leasing and waits up to `graceMs` for sends in flight; unfinished jobs return when their lease runs out. */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    for (const wakeup of this.#wakeups.values()) wakeup.wake();
    await Promise.all(this.#loops);
    const deadline = Date.now() + graceMs;
    while ([...this.#inFlight.values()].some((n) => n > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  async #run(channel: Channel, provider: Provider): Promise<void> {
    const wakeup = this.#wakeups.get(channel)!;
    while (!this.#stopped) {
      const free = this.#o.concurrency - this.#inFlight.get(channel)!;
      let leased: { job: DeliveryJob; notification: StoredNotification }[] = [];
      if (free > 0) {
        try {
          leased = await this.#o.store.lease(this.#now(), free, this.#o.leaseMs, channel);
        } catch (err) {
          this.#o.logger.warn({ err, channel }, "could not lease notification jobs; trying again at the next poll");
        }
      }
      for (const { job, notification } of leased) {
        this.#inFlight.set(channel, this.#inFlight.get(channel)! + 1);
        void this.#attempt(provider, job, notification).finally(() => {
          this.#inFlight.set(channel, this.#inFlight.get(channel)! - 1);
          wakeup.wake();
        });
      }
      // A full batch means more may be due; otherwise wait for a wake (Send, a freed slot) or the next poll.
      if (leased.length === 0 || leased.length < free) await wakeup.sleep(this.#o.pollMs);
    }
  }

  async #attempt(provider: Provider, job: DeliveryJob, notification: StoredNotification): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await provider.send(job.target, contentOf(notification));
    } catch (err) {
      outcome = { kind: "retry", reason: err instanceof Error ? err.message : String(err) };
    }
    try {
      this.#o.onAttempt?.(job.channel, await this.#record(job, outcome));
    } catch (err) {
      // The job stays leased and comes back when the lease runs out.
      this.#o.logger.warn({ err, jobId: job.id.toString() }, "could not record a delivery outcome");
    }
  }

  async #record(job: DeliveryJob, outcome: Outcome): Promise<AttemptResult> {
    const store = this.#o.store;
    switch (outcome.kind) {
      case "sent":
        await store.markSent(job.id, this.#now());
        return "sent";
      case "retry": {
        const attempts = job.attempts + 1;
        if (attempts >= this.#o.maxAttempts) {
          await store.markFailed(job.id, outcome.reason, this.#now(), true);
          this.#o.logger.warn({ jobId: job.id.toString(), channel: job.channel, attempts, reason: outcome.reason }, "delivery dead-lettered");
          return "dead";
        }
        const wait = retryDelayMs(this.#o.backoff, attempts, outcome.retryAfterMs);
        await store.markFailed(job.id, outcome.reason, new Date(this.#now().getTime() + wait), false);
        return "retry";
      }
      case "invalid-target":
        await store.markRejected(job.id, outcome.reason);
        await this.#forgetToken(job);
        return "rejected";
      case "failed":
        await store.markRejected(job.id, outcome.reason);
        this.#o.logger.warn({ jobId: job.id.toString(), channel: job.channel, reason: outcome.reason }, "provider refused a notification");
        return "rejected";
    }
  }

  async #forgetToken(job: DeliveryJob): Promise<void> {
    const target = job.target;
    const token = target.channel === "fcm" || target.channel === "apns" ? target.token : target.channel === "webpush" ? target.endpoint : undefined;
    if (token === undefined || job.deviceId === undefined) return;
    try {
      await this.#o.directory.removePushToken(job.deviceId, token);
    } catch (err) {
      this.#o.logger.warn({ err, deviceId: job.deviceId.toString() }, "could not remove an invalid push token");
    }
  }
}

/** The provider's view of a stored notification; the id lets the app report delivered/opened events. */
function contentOf(n: StoredNotification): Content {
  return {
    title: n.content.title,
    body: n.content.body,
    data: { ...n.content.data, notification_id: n.id.toString() },
    ...(n.collapseKey !== "" ? { collapseKey: n.collapseKey } : {}),
    ...(n.badge > 0 ? { badge: n.badge } : {}),
  };
}
