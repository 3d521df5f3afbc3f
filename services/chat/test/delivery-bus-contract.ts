import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, it } from "node:test";
import { until } from "@parley/testkit";
import type { DeliveryBus, DeliveryEvent } from "../src/ports.js";
import { draft } from "./message-store-fixtures.js";

export interface OpenedDeliveryBus {
  bus: DeliveryBus;
  /** What the adapter promises when the process lives: the embedded bus at most once, Kafka at least once. */
  delivery: "at-most-once" | "at-least-once";
  cleanup(): Promise<void>;
}

/**
 * An event for a user, numbered in its key's publish order. Entries and
 * typing events alternate, so an adapter that serializes events carries both
 * kinds; the number travels as the entry's seq or the typing event's
 * conversation id.
 */
function eventFor(userId: bigint, n: number): DeliveryEvent {
  if (n % 2 === 1) return { kind: "typing", userId, conversationId: BigInt(n), typerId: 7n, typing: true };
  const message = draft(BigInt(n), 7n);
  return { kind: "entry", entry: { userId, seq: BigInt(n), item: { kind: "message", message } } };
}

/** The user and number an event was published with. */
function tagOf(event: DeliveryEvent): { userId: bigint; n: number } {
  return event.kind === "entry" ? { userId: event.entry.userId, n: Number(event.entry.seq) } : { userId: event.userId, n: Number(event.conversationId) };
}

/** What a consumer saw: each key's event numbers in the order handled. */
class Seen {
  readonly byKey = new Map<bigint, number[]>();
  count = 0;
  private waiters: { count: number; resolve: () => void }[] = [];

  add(event: DeliveryEvent): void {
    const { userId, n } = tagOf(event);
    this.byKey.set(userId, [...(this.byKey.get(userId) ?? []), n]);
    this.count++;
    const done = this.waiters.filter((w) => this.count >= w.count);
    this.waiters = this.waiters.filter((w) => this.count < w.count);
    for (const waiter of done) waiter.resolve();
  }

  /** Resolves once `count` events were handled; rejects after a bound, saying how many arrived. */
  async reach(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.count >= count) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.waiters.push({ count, resolve });
        timer = setTimeout(() => reject(new Error(`${this.count} of ${count} events handled in ${timeoutMs} ms`)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

const upTo = (count: number) => Array.from({ length: count }, (_, i) => i);

/**
 * The delivery bus contract (DeliveryBus in src/ports.ts): every adapter,
 * the embedded MemoryBus and later Kafka, must pass it. `open` is called for
 * every test, since a bus has one consumer.
 */
export function describeDeliveryBusContract(name: string, open: () => Promise<OpenedDeliveryBus>): void {
  describe(`delivery bus (${name})`, () => {
    let opened: OpenedDeliveryBus | undefined;
    const subject = async () => (opened = await open());
    afterEach(async () => {
      await opened?.cleanup();
      opened = undefined;
    });

    it("hands one key's events to the consumer in publish order, though the handler takes varying time", async () => {
      const { bus } = await subject();
      const seen = new Seen();
      bus.consume(async (events) => {
        for (const event of events) {
          await sleep(tagOf(event).n % 3);
          seen.add(event);
        }
      });
      for (const n of upTo(50)) bus.publish(42n, eventFor(42n, n));
      await seen.reach(50);
      assert.deepEqual(seen.byKey.get(42n), upTo(50));
    });

    it("keeps every key's order under concurrent publishers, each key's events mixed among the others'", async () => {
      const { bus } = await subject();
      const seen = new Seen();
      bus.consume(async (events) => {
        for (const event of events) {
          if (tagOf(event).n % 4 === 0) await sleep(1);
          seen.add(event);
        }
      });
      const keys = [1n, 2n, 3n, 17n, 18n, 33n];
      const published = new Map(keys.map((key) => [key, 0]));
      // Eight publishers interleave at every await; a key's order is the order its publish() calls happen in.
      const publisher = async (p: number) => {
        for (let i = 0; i < 40; i++) {
          const key = keys[(p * 7 + i * 5) % keys.length]!;
          const n = published.get(key)!;
          published.set(key, n + 1);
          bus.publish(key, eventFor(key, n));
          await (i % 3 === 0 ? sleep(0) : Promise.resolve());
        }
      };
      await Promise.all(upTo(8).map(publisher));
      await seen.reach(8 * 40);
      for (const key of keys) assert.deepEqual(seen.byKey.get(key), upTo(published.get(key)!), `key ${key}`);
    });

    it("hands a key's next event over only once the handler has finished the one before", async () => {
      const { bus } = await subject();
      const seen = new Seen();
      const running = new Map<bigint, number>();
      let overlaps = 0;
      bus.consume(async (events) => {
        const users = new Set(events.map((event) => tagOf(event).userId));
        for (const userId of users) {
          if ((running.get(userId) ?? 0) > 0) overlaps++;
          running.set(userId, (running.get(userId) ?? 0) + 1);
        }
        await sleep(1);
        for (const userId of users) running.set(userId, running.get(userId)! - 1);
        for (const event of events) seen.add(event);
      });
      for (const n of upTo(10)) for (const key of [5n, 6n, 21n]) bus.publish(key, eventFor(key, n));
      await seen.reach(30);
      assert.equal(overlaps, 0);
    });

    it("delivers every event while the process lives, never twice when it promises at most once", async () => {
      const { bus, delivery } = await subject();
      const seen = new Seen();
      bus.consume(async (events) => {
        for (const event of events) seen.add(event);
      });
      const keys = upTo(40).map((i) => BigInt(1_000 + i));
      for (const n of upTo(5)) for (const key of keys) bus.publish(key, eventFor(key, n));
      await seen.reach(keys.length * 5);
      // A marker behind each key's events: once every marker is handled, a duplicate
      // queued with the events would have been handled too, since a key keeps its order.
      for (const key of keys) bus.publish(key, eventFor(key, 5));
      await until(() => keys.every((key) => seen.byKey.get(key)?.includes(5)), "every key's marker");
      for (const key of keys) {
        const got = seen.byKey.get(key) ?? [];
        assert.deepEqual([...new Set(got)], upTo(6), `every event of key ${key}, in order`);
        if (delivery === "at-most-once") assert.equal(got.length, 6, `no event of key ${key} twice`);
      }
    });
  });
}
