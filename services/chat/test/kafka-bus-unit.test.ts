import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EachMessagePayload, Kafka, ProducerRecord } from "kafkajs";
import { encodeDeliveryRecord, UndecodableDeliveryRecord } from "../src/adapters/delivery-record.js";
import { KafkaBus, PublishFailed } from "../src/adapters/kafka-bus.js";
import type { DeliveryEvent } from "../src/ports.js";

/** A handler of one event at a time, as the Kafka bus hands them over (each call holds one). */
const eachEvent =
  (handle: (event: DeliveryEvent) => Promise<void>) =>
  async (events: readonly DeliveryEvent[]): Promise<void> => {
    for (const event of events) await handle(event);
  };

/*
 * KafkaBus's own logic (batching per turn, one send at a time, error
 * handling, close) against a stand-in for kafkajs: no broker is involved, so
 * this proves nothing about kafkajs or Kafka (kafka-bus.test.ts does, when
 * KAFKA_BROKERS is set).
 */
class FakeKafka {
  readonly sends: ProducerRecord[] = [];
  failNextSend = false;
  releaseSend: (() => void) | undefined;
  holdSends = false;
  eachMessage: ((payload: EachMessagePayload) => Promise<void>) | undefined;
  readonly calls: string[] = [];

  admin() {
    return { connect: async () => {}, disconnect: async () => {}, createTopics: async () => true };
  }
  producer() {
    return {
      connect: async () => void this.calls.push("producer.connect"),
      disconnect: async () => void this.calls.push("producer.disconnect"),
      send: async (record: ProducerRecord) => {
        this.sends.push(record);
        if (this.holdSends) await new Promise<void>((resolve) => (this.releaseSend = resolve));
        if (this.failNextSend) {
          this.failNextSend = false;
          throw new Error("broker said no");
        }
        return [];
      },
    };
  }
  consumer() {
    return {
      events: { CRASH: "consumer.crash" },
      on: () => () => {},
      connect: async () => {},
      subscribe: async () => {},
      disconnect: async () => void this.calls.push("consumer.disconnect"),
      run: async ({ eachMessage }: { eachMessage: (payload: EachMessagePayload) => Promise<void> }) => {
        this.eachMessage = eachMessage;
      },
    };
  }
  /** Hands the consumer one record with `value`, as kafkajs would. */
  deliver(value: Buffer | null, offset = "0"): Promise<void> {
    const message = { key: Buffer.from("9"), value, offset, timestamp: "0", attributes: 0, headers: {} };
    return this.eachMessage!({ topic: "t", partition: 0, message, heartbeat: async () => {}, pause: () => () => {} } as EachMessagePayload);
  }
}

const settings = { brokers: ["kafka:9092"], clientId: "test", topic: "t", topicPartitions: 4, groupId: "g", partitionsConsumedConcurrently: 4 };
const typing = (userId: bigint, n: number): DeliveryEvent => ({ kind: "typing", userId, conversationId: BigInt(n), typerId: 7n, typing: true });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function open(onError: (err: unknown) => void = () => {}) {
  const fake = new FakeKafka();
  const bus = await KafkaBus.open({ ...settings, onError }, fake as unknown as Kafka);
  return { fake, bus };
}

describe("KafkaBus without a broker", () => {
  it("sends the events of one turn as one send, keyed by the recipient's decimal id, with acks from all replicas", async () => {
    const { fake, bus } = await open();
    bus.publish(12n, typing(12n, 0));
    bus.publish(34n, typing(34n, 1));
    await bus.flushed();
    assert.equal(fake.sends.length, 1);
    assert.equal(fake.sends[0]!.acks, -1);
    assert.deepEqual(
      fake.sends[0]!.messages.map((m) => m.key),
      ["12", "34"],
    );
    assert.deepEqual(Buffer.from(fake.sends[0]!.messages[1]!.value as Buffer), Buffer.from(encodeDeliveryRecord(typing(34n, 1))));
    await bus.close();
  });

  it("keeps one send in flight: what is published meanwhile goes next, in publish order", async () => {
    const { fake, bus } = await open();
    fake.holdSends = true;
    bus.publish(1n, typing(1n, 0));
    await turn();
    bus.publish(1n, typing(1n, 1));
    await turn();
    bus.publish(1n, typing(1n, 2));
    await turn();
    assert.equal(fake.sends.length, 1, "the second send waits for the first");
    fake.holdSends = false;
    fake.releaseSend!();
    await bus.flushed();
    assert.deepEqual(
      fake.sends.map((s) => s.messages.length),
      [1, 2],
    );
    assert.equal(bus.counts.sent, 3);
    await bus.close();
  });

  it("reports a failed send as PublishFailed, counts its events and goes on with the next", async () => {
    const failures: unknown[] = [];
    const { fake, bus } = await open((err) => failures.push(err));
    fake.failNextSend = true;
    bus.publish(1n, typing(1n, 0));
    bus.publish(2n, typing(2n, 0));
    await bus.flushed();
    bus.publish(1n, typing(1n, 1));
    await bus.flushed();
    assert.ok(failures[0] instanceof PublishFailed && failures[0].events === 2, String(failures[0]));
    assert.deepEqual(bus.counts, { sent: 1, failedToSend: 2, undecodable: 0, handlerFailures: 0 });
    await bus.close();
  });

  it("never throws into kafkajs: an undecodable record, an empty one and a failing handler are reported and skipped", async () => {
    const failures: unknown[] = [];
    const { fake, bus } = await open((err) => failures.push(err));
    const seen: DeliveryEvent[] = [];
    bus.consume(
      eachEvent(async (event) => {
        if (event.kind === "typing" && event.conversationId === 1n) throw new Error("gateway gone");
        seen.push(event);
      }),
    );
    await bus.flushed();
    await fake.deliver(Buffer.from([0xff, 0xff]));
    await fake.deliver(null);
    await fake.deliver(Buffer.from(encodeDeliveryRecord(typing(9n, 1))));
    await fake.deliver(Buffer.from(encodeDeliveryRecord(typing(9n, 2))));
    assert.deepEqual(seen, [typing(9n, 2)]);
    assert.ok(failures[0] instanceof UndecodableDeliveryRecord && failures[1] instanceof UndecodableDeliveryRecord);
    assert.equal((failures[2] as Error).message, "gateway gone");
    assert.deepEqual(bus.counts, { sent: 0, failedToSend: 0, undecodable: 2, handlerFailures: 1 });
    await bus.close();
  });

  it("on close, stops the consumer first, sends what is pending, then disconnects the producer; later publishes are refused", async () => {
    const failures: unknown[] = [];
    const { fake, bus } = await open((err) => failures.push(err));
    bus.consume(async () => {});
    bus.publish(1n, typing(1n, 0));
    await bus.close();
    assert.equal(fake.sends.length, 1);
    assert.deepEqual(fake.calls.slice(-2), ["consumer.disconnect", "producer.disconnect"]);
    bus.publish(1n, typing(1n, 1));
    assert.ok(failures[0] instanceof PublishFailed);
  });
});
