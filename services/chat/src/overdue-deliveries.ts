import type { Logger } from "@parley/runtime";
import { Replies } from "./domain/replies.js";
import type { DeliveryBus, DeliveryOutbox, EntryKey, MessageStore } from "./ports.js";

export interface OverdueDeliveriesOptions {
  outbox: DeliveryOutbox;
  store: Pick<MessageStore, "inbox" | "replyTarget" | "quotesOf">;
  bus: DeliveryBus;
  logger: Logger;
  /** An entry not handed on this long after it was stored (or last claimed) is taken to be orphaned (default 1 s). */
  overdueMs?: number;
  /** How often the outbox is searched (default 250 ms). */
  intervalMs?: number;
  /** Most entries claimed per search (default 500). */
  batch?: number;
}

/** Entries loaded from the store at once while redelivering. */
const LOAD_CONCURRENCY = 16;

/**
 * Finds entries whose chat process died between storing them and handing
 * them on, and puts them back on this process's delivery bus. Every chat
 * process runs one; the outbox's SKIP LOCKED claim splits the work between
 * them. An entry is delivered within overdueMs + intervalMs of its process's
 * death (plus the delivery itself), even if no later message reveals it, and
 * a process that dies while redelivering leaves its claims overdue again for
 * the next one. An entry handed on late (a busy process) may be delivered
 * twice; devices drop the second copy by seq. A reply goes out with its
 * quote as the recipient sees it now, as sync would give it.
 */
export class OverdueDeliveries {
  private readonly overdueMs: number;
  private readonly batch: number;
  private readonly replies: Replies;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(private readonly o: OverdueDeliveriesOptions) {
    this.overdueMs = o.overdueMs ?? 1_000;
    this.batch = o.batch ?? 500;
    this.replies = new Replies(o.store);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((err: unknown) => this.o.logger.warn({ err }, "could not search the delivery outbox; trying again"))
        .finally(() => (this.sweeping = undefined));
    }, this.o.intervalMs ?? 250);
    this.timer.unref();
  }

  /** One search: claims what is overdue and republishes it; returns how many entries it republished. */
  async sweep(): Promise<number> {
    const keys = await this.o.outbox.claimOverdue(this.overdueMs, this.batch);
    let republished = 0;
    for (let i = 0; i < keys.length; i += LOAD_CONCURRENCY) {
      const found = await Promise.all(keys.slice(i, i + LOAD_CONCURRENCY).map((key) => this.entryOf(key)));
      for (const entry of found) {
        if (entry === undefined) continue;
        this.o.bus.publish(entry.userId, { kind: "entry", entry });
        republished++;
      }
    }
    if (republished > 0) this.o.logger.info({ entries: republished }, "redelivering entries whose chat process stopped before handing them on");
    return republished;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private async entryOf(key: EntryKey) {
    const [entry] = await this.o.store.inbox(key.userId, key.seq - 1n, 1);
    if (entry?.seq === key.seq) return (await this.replies.inEntries([entry], key.userId))[0];
    this.o.outbox.handedOn(key); // no such entry (never expected: the row is written with it): nothing to deliver
    return undefined;
  }
}
