import type { CounterCell, Metrics } from "@parley/runtime";
import type { AttemptResult } from "./domain/dispatcher.js";
import type { Channel, JobStore, Provider } from "./ports.js";
import { providerName } from "./adapters/providers/configured.js";

export interface NotifyMetrics {
  attempt(channel: Channel, outcome: AttemptResult): void;
  accepted(kind: string, outcome: "accepted" | "duplicate" | "rate_limited"): void;
}

const ATTEMPT_OUTCOMES: readonly AttemptResult[] = ["sent", "retry", "dead", "rejected"];

/**
 * Notify's metrics: attempts per channel, provider and outcome (sends,
 * retries, dead letters, rejections), notifications accepted per kind, and
 * the queue depth per channel, read from the store when scraped. The series
 * of every channel with a provider exist from the start.
 */
export function notifyMetrics(metrics: Metrics, store: JobStore, providers: ReadonlyMap<Channel, Provider>): NotifyMetrics {
  const attempts = metrics.counter({
    name: "parley_notify_attempts_total",
    help: "Delivery attempts by channel, provider and outcome (sent; retry: failed, tried again later; dead: failed for good or out of attempts; rejected: the provider refused the target)",
    labelNames: ["channel", "provider", "outcome"],
  });
  const accepted = metrics.counter({
    name: "parley_notify_notifications_total",
    help: "Send calls by template kind and outcome (accepted, duplicate: the event id was seen before, rate_limited: accepted but not pushed)",
    labelNames: ["kind", "outcome"],
  });
  metrics.gauge({
    name: "parley_notify_queue_depth",
    help: "Deliveries pending per channel now (waiting, leased or backing off before a retry)",
    labelNames: ["channel"],
    async read(set) {
      const depth = await store.depth();
      for (const channel of providers.keys()) set(depth[channel] ?? 0, { channel });
    },
  });
  const cells = new Map<string, CounterCell>();
  for (const [channel, provider] of providers) {
    for (const outcome of ATTEMPT_OUTCOMES) cells.set(`${channel}/${outcome}`, attempts.cell({ channel, provider: providerName(provider), outcome }));
  }
  return {
    attempt: (channel, outcome) => (cells.get(`${channel}/${outcome}`) ?? attempts.cell({ channel, provider: "none", outcome })).inc(),
    accepted: (kind, outcome) => accepted.cell({ kind, outcome }).inc(),
  };
}
