import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@parley/runtime";
import { loadChatConfig } from "../src/config.js";

/** Asserts that loading `environment` fails with exactly one problem, on `variable`, matching `message`. */
function refuses(environment: NodeJS.ProcessEnv, variable: string, message: RegExp): void {
  assert.throws(
    () => loadChatConfig(environment),
    (err) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.problems.length, 1, err.message);
      assert.ok(err.problems[0]!.startsWith(`${variable}: `), err.message);
      assert.match(err.problems[0]!, message);
      return true;
    },
  );
}

const kafka = { CHAT_DELIVERY_BUS: "kafka", KAFKA_BROKERS: "kafka-0:9092" };

describe("chat config > delivery bus", () => {
  it("uses the in-process bus when nothing is set, and ignores Kafka variables then", () => {
    assert.deepEqual(loadChatConfig({}).deliveryBus, { kind: "memory" });
    assert.deepEqual(loadChatConfig({ KAFKA_BROKERS: "kafka-0:9092" }).deliveryBus, { kind: "memory" });
  });

  it("uses Kafka with the documented defaults when CHAT_DELIVERY_BUS is kafka", () => {
    assert.deepEqual(loadChatConfig(kafka).deliveryBus, {
      kind: "kafka",
      brokers: ["kafka-0:9092"],
      clientId: "parley-chat",
      topic: "parley.deliveries",
      topicPartitions: 128,
      groupId: "parley-chat-delivery",
      partitionsConsumedConcurrently: 16,
    });
  });

  it("reads every Kafka variable, brokers separated by commas with spaces allowed", () => {
    const config = loadChatConfig({
      ...kafka,
      KAFKA_BROKERS: "10.0.0.5:9092, kafka-1.kafka.svc:19092,[::1]:9093",
      KAFKA_TOPIC: "staging.deliveries",
      KAFKA_CONSUMER_GROUP: "chat-eu",
      KAFKA_CLIENT_ID: "chat-eu-1",
      KAFKA_TOPIC_PARTITIONS: "12",
      KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: "4",
    });
    assert.deepEqual(config.deliveryBus, {
      kind: "kafka",
      brokers: ["10.0.0.5:9092", "kafka-1.kafka.svc:19092", "[::1]:9093"],
      clientId: "chat-eu-1",
      topic: "staging.deliveries",
      topicPartitions: 12,
      groupId: "chat-eu",
      partitionsConsumedConcurrently: 4,
    });
    assert.ok(Object.isFrozen(config.deliveryBus));
  });

  it("refuses an unknown CHAT_DELIVERY_BUS", () => {
    refuses({ CHAT_DELIVERY_BUS: "redis" }, "CHAT_DELIVERY_BUS", /must be one of memory, kafka \(got "redis"\)/);
  });

  it("refuses CHAT_DELIVERY_BUS=kafka without KAFKA_BROKERS", () => {
    refuses({ CHAT_DELIVERY_BUS: "kafka" }, "KAFKA_BROKERS", /is required when CHAT_DELIVERY_BUS is kafka/);
  });

  for (const brokers of ["kafka-0", "kafka-0:0", "kafka-0:70000", "http://kafka-0:9092", ",", "kafka-0:9092;kafka-1:9092"]) {
    it(`refuses KAFKA_BROKERS "${brokers}"`, () => {
      refuses({ ...kafka, KAFKA_BROKERS: brokers }, "KAFKA_BROKERS", /must be comma-separated host:port pairs/);
    });
  }

  for (const [topic, message] of [
    ["parley deliveries", /letters, digits/],
    ["a".repeat(250), /1 to 249/],
    ["..", /must not be "\." or "\.\."/],
  ] as const) {
    it(`refuses KAFKA_TOPIC "${topic.slice(0, 20)}"`, () => refuses({ ...kafka, KAFKA_TOPIC: topic }, "KAFKA_TOPIC", message));
  }

  it("refuses a consumer group or client id with characters Kafka names do not allow", () => {
    refuses({ ...kafka, KAFKA_CONSUMER_GROUP: "chat/eu" }, "KAFKA_CONSUMER_GROUP", /letters, digits/);
    refuses({ ...kafka, KAFKA_CLIENT_ID: "chat eu" }, "KAFKA_CLIENT_ID", /letters, digits/);
  });

  it("refuses partition counts out of range", () => {
    refuses({ ...kafka, KAFKA_TOPIC_PARTITIONS: "0" }, "KAFKA_TOPIC_PARTITIONS", /whole number from 1 to 10000/);
    refuses({ ...kafka, KAFKA_TOPIC_PARTITIONS: "many" }, "KAFKA_TOPIC_PARTITIONS", /whole number from 1 to 10000/);
    refuses({ ...kafka, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: "0" }, "KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY", /whole number from 1 to 10000/);
  });
});
