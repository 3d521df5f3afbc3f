import { contextOf, traceparentOf, withContext, type Logger } from "@parley/runtime";
import { Partitioners, type Consumer, type Kafka, type KafkaMessage, type Message, type Producer } from "kafkajs";
import type { DeliveryBus, DeliveryEvent, DeliveryHandler } from "../ports.js";
import { decodeDeliveryRecord, encodeDeliveryRecord, UndecodableDeliveryRecord } from "./delivery-record.js";
import { ensureTopic, kafkaClient, type KafkaClientSettings } from "./kafka-client.js";

export interface KafkaBusSettings extends KafkaClientSettings {
  /** The one topic every event goes to, keyed by recipient. */
  topic: string;
  /** Partitions of the topic when it has to be created (docs/capacity.md plans 128). */
  topicPartitions: number;
  /** The consumer group: the chat processes sharing it share the partitions. */
  groupId: string;
  /** Partitions handled at the same time, each one event at a time (kafkajs's default of 1 would make every user wait on every other). */
  partitionsConsumedConcurrently: number;
}

export interface KafkaBusOptions extends KafkaBusSettings {
  /** Failed sends (PublishFailed), undecodable records, handler failures, consumer crashes. */
  onError?: (err: unknown) => void;
  /**
   * Told how long each record waited between its producer's timestamp and
   * its handler, in seconds (wall clocks of two processes: skew between
   * their machines shows here).
   */
  onWaited?: (seconds: number) => void;
  /** Where kafkajs's own log lines go. */
  logger?: Logger;
}

/** A send to the topic that kafkajs gave up on: its events are not on the bus (they are in the store; devices sync them). */
export class PublishFailed extends Error {
  constructor(
    readonly events: number,
    topic: string,
    cause: unknown,
  ) {
    super(`delivery bus: sending ${events} events to topic ${topic} failed`, { cause });
    this.name = "PublishFailed";
  }
}

/** What the bus has done since it opened, for metrics and tests. */
export interface KafkaBusCounts {
  /** Events the brokers acknowledged. */
  sent: number;
  /** Events of failed sends (each send also reported as PublishFailed). */
  failedToSend: number;
  /** Records skipped because they could not be decoded. */
  undecodable: number;
  /** Events whose handler threw. */
  handlerFailures: number;
}

/**
 * The delivery bus on Kafka, for chat running as its own processes. One
 * topic; each record is keyed by the recipient's user id (decimal), so one
 * user's events land in one partition in publish order, and a partition is
 * consumed by one member of the group at a time, one event after another:
 * the port's per-key order.
 *
 * Delivery is at least once: a record's offset is committed only after its
 * handler has finished, so an event in hand when a process dies or the
 * group rebalances is handled again by the partition's next owner. The
 * store makes that harmless (devices drop an entry they have by seq,
 * message_id) and makes every entry reachable by sync when a delivery
 * fails, so a handler's failure is reported and the partition goes on.
 *
 * Not yet durable on the publish side: publish() returns before the brokers
 * have the event (the port's publish is fire-and-forget), so an event
 * published just before the process dies may never reach the topic; its
 * entry is still in the store and arrives with the next sync.
 */
export class KafkaBus implements DeliveryBus {
  readonly counts: KafkaBusCounts = { sent: 0, failedToSend: 0, undecodable: 0, handlerFailures: 0 };
  private pending: Message[] = [];
  private flushScheduled = false;
  private sending: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  private closed: Promise<void> | undefined;
  private readonly onError: (err: unknown) => void;

  /**
   * Makes sure the topic exists, then connects a producer and a consumer
   * (subscribed, not yet running). Rejects when the brokers cannot be
   * reached. `kafka` is for tests without a broker.
   */
  static async open(options: KafkaBusOptions, kafka: Kafka = kafkaClient(options, options.logger)): Promise<KafkaBus> {
    await ensureTopic(kafka.admin(), options.topic, options.topicPartitions);
    const producer = kafka.producer({
      // The brokers drop a retried batch they already have: a retry never writes an event twice.
      idempotent: true,
      // kafkajs keeps the idempotent producer's sequence numbers right only with one request in flight.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Murmur2 of the key, as the Java client: any client that writes this topic puts a user in the same partition.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    const consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
    try {
      await producer.connect();
      await consumer.connect();
      // A group with no committed offset yet starts at the oldest record, so
      // events published before its first member joined are handled, not skipped.
      await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    } catch (err) {
      await Promise.allSettled([producer.disconnect(), consumer.disconnect()]);
      throw err;
    }
    return new KafkaBus(producer, consumer, options);
  }

  private constructor(
    private readonly producer: Producer,
    private readonly consumer: Consumer,
    private readonly settings: KafkaBusOptions,
  ) {
    this.onError = settings.onError ?? (() => {});
    consumer.on(consumer.events.CRASH, ({ payload }) => this.onError(payload.error));
  }

  /**
   * Queues the event; everything published in the same turn of the event
   * loop goes out as one send at the end of it. Sends go one at a time, so
   * the topic gets events in publish order.
   */
  publish(key: bigint, event: DeliveryEvent): void {
    if (this.closed !== undefined) {
      this.onError(new PublishFailed(1, this.settings.topic, new Error("the bus is closed")));
      this.counts.failedToSend++;
      return;
    }
    // With tracing on, the record carries the publishing span, so its delivery joins that trace.
    const traceparent = traceparentOf();
    this.pending.push({ key: key.toString(), value: Buffer.from(encodeDeliveryRecord(event)), ...(traceparent ? { headers: { traceparent } } : {}) });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.sendPending();
      });
    }
  }

  consume(handler: DeliveryHandler): void {
    if (this.running !== undefined) throw new Error("KafkaBus: consume() called twice; a bus has one consumer");
    this.running = this.consumer
      .run({
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
        // kafkajs resolves a record's offset only once eachMessage has
        // returned, and commits resolved offsets only: at the end of each
        // fetched batch, every second (the interval), at a rebalance and
        // when stopping. So a committed offset always means "handled"
        // (at least once); a crash replays at most about a second's records.
        // eachMessage never throws (see handle), so kafkajs never retries a batch.
        autoCommit: true,
        autoCommitInterval: 1_000,
        eachMessage: ({ message }) => this.handle(handler, message),
      })
      .catch((err: unknown) => this.onError(err));
  }

  /** Resolves once everything published so far has been sent or has failed. */
  async flushed(): Promise<void> {
    while (this.sending !== undefined || this.pending.length > 0) {
      if (this.sending === undefined) this.sendPending();
      await this.sending;
    }
  }

  /** Stops consuming (the event in hand finishes, its offset is committed), sends what is pending, disconnects. */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    await this.running;
    await this.consumer.disconnect().catch((err: unknown) => this.onError(err));
    await this.flushed();
    await this.producer.disconnect().catch((err: unknown) => this.onError(err));
  }

  private sendPending(): void {
    if (this.sending !== undefined || this.pending.length === 0) return; // the send in flight sends the rest when it ends
    const messages = this.pending;
    this.pending = [];
    this.sending = this.producer
      .send({ topic: this.settings.topic, acks: -1, messages })
      .then(
        () => {
          this.counts.sent += messages.length;
        },
        (err: unknown) => {
          this.counts.failedToSend += messages.length;
          this.onError(new PublishFailed(messages.length, this.settings.topic, err));
        },
      )
      .finally(() => {
        this.sending = undefined;
        this.sendPending();
      });
  }

  /** Never throws: a record that cannot be decoded and a handler that fails are reported, and the partition goes on. */
  private async handle(handler: DeliveryHandler, message: KafkaMessage): Promise<void> {
    this.settings.onWaited?.(Math.max(0, Date.now() - Number(message.timestamp)) / 1000);
    let event: DeliveryEvent;
    try {
      if (message.value === null) throw new UndecodableDeliveryRecord(`no value (offset ${message.offset})`);
      event = decodeDeliveryRecord(message.value);
    } catch (err) {
      this.counts.undecodable++;
      this.onError(err);
      return;
    }
    try {
      const traceparent = message.headers?.traceparent;
      await withContext(contextOf(traceparent === undefined ? "" : traceparent.toString()), () => handler([event]));
    } catch (err) {
      this.counts.handlerFailures++;
      this.onError(err);
    }
  }
}
