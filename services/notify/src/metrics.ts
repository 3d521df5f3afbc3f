import type { Metrics } from "@parley/runtime";
import { Counter, Gauge } from "prom-client";
import type { AttemptResult } from "./domain/dispatcher.js";
import type { Channel, JobStore, Provider } from "./ports.js";
import { providerName } from "./adapters/providers/configured.js";

export interface NotifyMetrics {
  attempt(channel: Channel, result: AttemptResult): void;
  accepted(kind: string, result: "accepted" | "duplicate" | "rate_limited"): void;
}

/**
 * Notify's metrics: attempts per channel, provider and result (sends,
 * retries, dead letters, rejections), notifications accepted per kind, and
 * the queue depth per channel, read from the store when scraped.
 */
export function notifyMetrics(metrics: Metrics, store: JobStore, providers: ReadonlyMap<Channel, Provider>): NotifyMetrics {
  const attempts = new Counter({
    name: "parley_notify_attempts_total",
    help: "Delivery attempts by channel, provider and result (sent, retry, dead, rejected)",
    labelNames: ["channel", "provider", "result"],
    registers: [metrics.registry],
  });
  const accepted = new Counter({
    name: "parley_notify_notifications_total",
    help: "Send calls by template kind and result (accepted, duplicate, rate_limited)",
    labelNames: ["kind", "result"],
    registers: [metrics.registry],
  });
  new Gauge({
    name: "parley_notify_queue_depth",
    help: "Pending deliveries per channel (waiting, leased or backing off)",
    labelNames: ["channel"],
    registers: [metrics.registry],
    async collect() {
      const depth = await store.depth();
      this.reset();
      for (const channel of providers.keys()) this.set({ channel }, depth[channel] ?? 0);
    },
  });
  return {
    attempt: (channel, result) => attempts.inc({ channel, provider: providers.has(channel) ? providerName(providers.get(channel)!) : "none", result }),
    accepted: (kind, result) => accepted.inc({ kind, result }),
  };
}
