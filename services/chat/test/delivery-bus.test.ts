import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { until } from "@parley/testkit";
import { BUS_HANDOFF_MAX, BUS_WAIT_SAMPLE_EVERY, MemoryBus } from "../src/adapters/memory-bus.js";
import type { DeliveryEvent } from "../src/ports.js";
import { describeDeliveryBusContract } from "./delivery-bus-contract.js";

describeDeliveryBusContract("memory", async () => {
  const bus = new MemoryBus();
  return { bus, delivery: "at-most-once", cleanup: () => bus.close() };
});

const typing = (userId: bigint, n: number): DeliveryEvent => ({ kind: "typing", userId, conversationId: BigInt(n), typerId: 7n, typing: true });
const numberOf = (event: DeliveryEvent) => (event.kind === "typing" ? Number(event.conversationId) : -1);

/** What the embedded bus does beyond the port's promises, which its composition root relies on. */
describe("MemoryBus", () => {
  it("holds events published before the consumer starts and hands them over in order, together, once it does", async () => {
    const bus = new MemoryBus();
    for (const n of [0, 1, 2]) bus.publish(9n, typing(9n, n));
    const calls: number[][] = [];
    bus.consume(async (events) => void calls.push(events.map(numberOf)));
    await bus.close();
    assert.deepEqual(calls, [[0, 1, 2]]);
  });

  it("hands a partition's waiting events over in calls of at most BUS_HANDOFF_MAX, in order", async () => {
    const bus = new MemoryBus(1);
    const total = BUS_HANDOFF_MAX + 44;
    for (let n = 0; n < total; n++) bus.publish(BigInt(n % 7), typing(BigInt(n % 7), n));
    const calls: number[][] = [];
    bus.consume(async (events) => void calls.push(events.map(numberOf)));
    await bus.close();
    assert.deepEqual(
      calls.map((call) => call.length),
      [BUS_HANDOFF_MAX, 44],
    );
    assert.deepEqual(
      calls.flat(),
      Array.from({ length: total }, (_, n) => n),
    );
  });

  it("reports a handler's failure and goes on with the key's next events", async () => {
    const failures: unknown[] = [];
    const bus = new MemoryBus(4, (err) => failures.push(err));
    const seen: number[] = [];
    bus.consume(async (events) => {
      if (events.some((event) => numberOf(event) === 1)) throw new Error("gateway gone");
      for (const event of events) seen.push(numberOf(event));
    });
    bus.publish(9n, typing(9n, 1));
    await until(() => failures.length === 1, "the failure reported");
    bus.publish(9n, typing(9n, 2));
    await bus.close();
    assert.deepEqual(seen, [2]);
    assert.equal((failures[0] as Error).message, "gateway gone");
  });

  it("times the wait on the bus of one event in BUS_WAIT_SAMPLE_EVERY, from publish to the handler", async () => {
    const waits: number[] = [];
    const bus = new MemoryBus(4, undefined, (seconds) => waits.push(seconds));
    for (let n = 0; n < BUS_WAIT_SAMPLE_EVERY * 2; n++) bus.publish(5n, typing(5n, n));
    await sleep(20);
    bus.consume(async () => {});
    await bus.close();
    assert.equal(waits.length, 2);
    for (const seconds of waits) assert.ok(seconds >= 0.015 && seconds < 5, `waited ${seconds} s before the consumer started`);
  });

  it("resolves close() only once every queued event has been handled", async () => {
    const bus = new MemoryBus();
    let handled = 0;
    bus.consume(async (events) => {
      await sleep(2);
      handled += events.length;
    });
    for (const n of [0, 1, 2, 3, 4]) bus.publish(BigInt(n), typing(BigInt(n), n));
    await bus.close();
    assert.equal(handled, 5);
  });

  it("does not hold a key up behind a slow key of another partition", async () => {
    const bus = new MemoryBus(2);
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const seen: bigint[] = [];
    bus.consume(async (events) => {
      for (const event of events) {
        if (event.kind === "typing" && event.userId === 2n) await slow;
        if (event.kind === "typing") seen.push(event.userId);
      }
    });
    bus.publish(2n, typing(2n, 0)); // partition 0, stuck until released
    bus.publish(3n, typing(3n, 0)); // partition 1
    await until(() => seen.length > 0, "key 3's event, handled while key 2 is stuck");
    assert.deepEqual(seen, [3n]);
    release();
    await bus.close();
    assert.deepEqual(seen, [3n, 2n]);
  });
});
