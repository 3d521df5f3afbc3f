import { ConfigError, env, type EnvValues } from "@parley/runtime";
import { z } from "zod";
import type { KafkaBusSettings } from "./adapters/kafka-bus.js";

/** The variables that choose and configure chat's delivery bus. */
export const deliveryBusEnv = {
  /** memory: the in-process bus, for one chat process; kafka: chat in several processes sharing a consumer group. */
  CHAT_DELIVERY_BUS: env.oneOf(["memory", "kafka"], "memory"),
  /** Comma-separated host:port of Kafka brokers; required with CHAT_DELIVERY_BUS=kafka. */
  KAFKA_BROKERS: z
    .string()
    .transform((value, ctx) => {
      const brokers = value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      if (brokers.length === 0 || !brokers.every(isHostPort)) {
        ctx.addIssue({ code: "custom", message: "must be comma-separated host:port pairs (port 1-65535), such as kafka-0:9092,kafka-1:9092" });
        return z.NEVER;
      }
      return brokers;
    })
    .optional(),
  KAFKA_TOPIC: kafkaName("parley.deliveries", 249).refine((v) => v !== "." && v !== "..", { error: 'must not be "." or ".."' }),
  KAFKA_CONSUMER_GROUP: kafkaName("parley-chat-delivery", 255),
  KAFKA_CLIENT_ID: kafkaName("parley-chat", 255),
  /** Used only when the topic is created; docs/capacity.md plans 128 for 50 M daily users. */
  KAFKA_TOPIC_PARTITIONS: env.int(1, 10_000, 128),
  KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: env.int(1, 10_000, 16),
};

export type DeliveryBusSettings = { kind: "memory" } | ({ kind: "kafka" } & KafkaBusSettings);

/** The bus settings; throws ConfigError when Kafka is chosen without brokers. */
export function deliveryBusSettings(v: EnvValues<typeof deliveryBusEnv>): DeliveryBusSettings {
  if (v.CHAT_DELIVERY_BUS === "memory") return Object.freeze({ kind: "memory" });
  if (v.KAFKA_BROKERS === undefined) throw new ConfigError(["KAFKA_BROKERS: is required when CHAT_DELIVERY_BUS is kafka"]);
  return Object.freeze({
    kind: "kafka",
    brokers: Object.freeze(v.KAFKA_BROKERS),
    clientId: v.KAFKA_CLIENT_ID,
    topic: v.KAFKA_TOPIC,
    topicPartitions: v.KAFKA_TOPIC_PARTITIONS,
    groupId: v.KAFKA_CONSUMER_GROUP,
    partitionsConsumedConcurrently: v.KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY,
  });
}

/** A topic, group or client name: the characters Kafka allows in topic names, which are safe in every broker's logs and metrics. */
function kafkaName(fallback: string, maxLength: number) {
  return z
    .string()
    .regex(new RegExp(`^[A-Za-z0-9._-]{1,${maxLength}}$`), { error: `must be 1 to ${maxLength} letters, digits, ".", "_" or "-"` })
    .default(fallback);
}

function isHostPort(value: string): boolean {
  const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(value);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}
