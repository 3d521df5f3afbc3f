import { LATENCY_BUCKETS, type Metrics } from "@parley/runtime";
import { ERASE_RESULTS, type EraseResult } from "./adapters/notify-erase.js";
import { HANDOFF_RESULTS, type HandoffResult } from "./adapters/notify-push.js";
import type { ChatMeter } from "./ports.js";

/** Upper bounds for entries per sync page (LIMITS.syncMax is 1,000). */
const SYNC_ENTRY_BUCKETS = [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000];

/** Upper bounds for messages per store batch (SendBatcher's default maximum is 256). */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * Chat's metrics: messages stored and the store's time per batch, sync
 * sizes, deliveries live and pushed, the delivery bus's lag, and push
 * hand-offs. Every series is made here, once; the send and delivery paths
 * only bump them (ChatMeter).
 */
export function chatMeter(metrics: Metrics): ChatMeter {
  const stored = metrics
    .counter({
      name: "parley_chat_messages_stored_total",
      help: "User messages stored: sends that were new, not duplicates of an earlier send and not refused (group system messages are not counted)",
    })
    .cell();
  const append = metrics
    .histogram({
      name: "parley_chat_store_append_duration_seconds",
      help: "Seconds the message store's append took for one batch of sends (one transaction), failed batches included",
      buckets: LATENCY_BUCKETS,
    })
    .cell();
  const batch = metrics
    .histogram({
      name: "parley_chat_store_append_batch_messages",
      help: "Sends per batch appended to the message store (messages; group commit puts the sends that arrive together in one transaction)",
      buckets: BATCH_BUCKETS,
    })
    .cell();
  const synced = metrics
    .histogram({
      name: "parley_chat_sync_entries",
      help: "Inbox entries per sync reply (entries; a full page is 500 by default, at most 1,000)",
      buckets: SYNC_ENTRY_BUCKETS,
    })
    .cell();
  const deliveries = metrics.counter({
    name: "parley_chat_deliveries_total",
    help: "Inbox entries handed on by the delivery worker, by path: live (written to the gateways holding the recipient's devices) or push (handed to notify: no device connected)",
    labelNames: ["path"],
  });
  const live = deliveries.cell({ path: "live" });
  const push = deliveries.cell({ path: "push" });
  const lag = metrics
    .histogram({
      name: "parley_chat_delivery_bus_lag_seconds",
      help: "Seconds an event waited on the delivery bus, from its publish (right after its entry was stored) to the delivery worker taking it; the in-process bus times one event in 8",
      buckets: LATENCY_BUCKETS,
    })
    .cell();
  return {
    appended(size, seconds) {
      append.observe(seconds);
      batch.observe(size);
    },
    stored: (n) => stored.inc(n),
    synced: (entries) => synced.observe(entries),
    delivered: (path) => (path === "live" ? live : push).inc(),
    busWaited: (seconds) => lag.observe(seconds),
  };
}

/** Counts push hand-offs to notify by how they ended; every outcome's series there from the start. */
export function handoffMeter(metrics: Metrics): (outcome: HandoffResult) => void {
  const handoffs = metrics.counter({
    name: "parley_chat_push_handoffs_total",
    help: "Pushes for recipients with no connected device, by how the hand-off to notify ended (sent, duplicate, dropped: the queue was full, failed)",
    labelNames: ["outcome"],
  });
  const cells = new Map(HANDOFF_RESULTS.map((outcome) => [outcome, handoffs.cell({ outcome })]));
  return (outcome) => cells.get(outcome)?.inc();
}

/** Counts erases of deleted messages' pushes in notify by how they ended; every outcome's series there from the start. */
export function eraseMeter(metrics: Metrics): (outcome: EraseResult) => void {
  const erasures = metrics.counter({
    name: "parley_chat_push_erasures_total",
    help: "Messages deleted for everyone whose pushes chat asked notify to erase, by how it ended (erased, dropped: the queue was full, failed)",
    labelNames: ["outcome"],
  });
  const cells = new Map(ERASE_RESULTS.map((outcome) => [outcome, erasures.cell({ outcome })]));
  return (outcome) => cells.get(outcome)?.inc();
}

/** The in-process bus's backlog, read when scraped. */
export function countQueuedEvents(metrics: Metrics, queued: () => number): void {
  metrics.gauge({
    name: "parley_chat_delivery_bus_queued_events",
    help: "Events waiting on this process's in-process delivery bus (embedded mode; with Kafka, read the consumer group's lag from Kafka)",
    read: (set) => set(queued()),
  });
}

/** Events the Kafka bus failed to send. */
export function unsentMeter(metrics: Metrics): (events: number) => void {
  const unsent = metrics
    .counter({
      name: "parley_chat_delivery_bus_unsent_events_total",
      help: "Events the Kafka delivery bus failed to send (their entries wait in the store for the next sync)",
    })
    .cell();
  return (events) => unsent.inc(events);
}
