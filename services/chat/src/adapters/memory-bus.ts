import { activeContext, withContext, type Context } from "@parley/runtime";
import type { DeliveryBus, DeliveryEvent, DeliveryHandler } from "../ports.js";

/**
 * One event in this many has its wait on the bus timed: a clock read costs
 * about 165 ns on this project's virtual machines (kvm-clock), two per
 * event would be about 1% of a delivery's CPU, and a sample gives the same
 * percentiles.
 */
export const BUS_WAIT_SAMPLE_EVERY = 8;

/** Most events handed to the consumer in one call. */
export const BUS_HANDOFF_MAX = 256;

/**
 * The embedded delivery bus: a keyed in-process queue. Keys hash to a fixed
 * set of partitions, each drained by one loop, so events for one user are
 * handled in order and users on different partitions do not wait for each
 * other. The loop hands over everything its partition holds (up to
 * BUS_HANDOFF_MAX), so under load the consumer handles many events per
 * call (one device lookup, one promise) instead of one. Single process only;
 * events in flight die with the process.
 */
export class MemoryBus implements DeliveryBus {
  private readonly partitions: DeliveryEvent[][];
  /** When each queued event was published (performance.now()), beside it in its partition; NaN for an event not timed. */
  private readonly publishedAt: number[][];
  private published = 0;
  private readonly draining: boolean[];
  private handler: DeliveryHandler | undefined;
  private idle: (() => void)[] = [];
  /** With tracing on, the context each event was published in, so its delivery joins that trace. */
  private readonly contexts = new WeakMap<DeliveryEvent, Context>();

  constructor(
    partitionCount = 16,
    private readonly onError: (err: unknown) => void = () => {},
    /** Told how long an event waited between publish and its handler, in seconds: one event in BUS_WAIT_SAMPLE_EVERY. */
    private readonly onWaited: (seconds: number) => void = () => {},
  ) {
    this.partitions = Array.from({ length: partitionCount }, () => []);
    this.publishedAt = Array.from({ length: partitionCount }, () => []);
    this.draining = Array.from({ length: partitionCount }, () => false);
  }

  publish(key: bigint, event: DeliveryEvent): void {
    const index = Number(key % BigInt(this.partitions.length));
    this.partitions[index]!.push(event);
    const ctx = activeContext();
    if (ctx !== undefined) this.contexts.set(event, ctx);
    this.publishedAt[index]!.push(++this.published % BUS_WAIT_SAMPLE_EVERY === 0 ? performance.now() : Number.NaN);
    if (this.handler && !this.draining[index]) void this.drain(index);
  }

  /** Events published and not yet handed to the consumer. */
  get queued(): number {
    let n = 0;
    for (const queue of this.partitions) n += queue.length;
    return n;
  }

  consume(handler: DeliveryHandler): void {
    this.handler = handler;
    for (const [index, queue] of this.partitions.entries()) {
      if (queue.length > 0) void this.drain(index);
    }
  }

  /** Resolves when every queued event has been handled. */
  async close(): Promise<void> {
    if (this.draining.some(Boolean)) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private async drain(index: number): Promise<void> {
    this.draining[index] = true;
    const queue = this.partitions[index]!;
    const times = this.publishedAt[index]!;
    while (queue.length > 0) {
      // An event published under a trace goes alone, in its context, so its delivery joins that trace.
      const context = this.contexts.get(queue[0]!);
      let count = 1;
      if (context === undefined) while (count < queue.length && count < BUS_HANDOFF_MAX && !this.contexts.has(queue[count]!)) count++;
      const events = queue.splice(0, count);
      const now = performance.now();
      for (const publishedAt of times.splice(0, count)) if (!Number.isNaN(publishedAt)) this.onWaited((now - publishedAt) / 1000);
      try {
        await withContext(context, () => this.handler!(events));
      } catch (err) {
        this.onError(err);
      }
    }
    this.draining[index] = false;
    if (!this.draining.some(Boolean)) for (const resolve of this.idle.splice(0)) resolve();
  }
}
