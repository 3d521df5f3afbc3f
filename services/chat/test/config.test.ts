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

const cassandra = { ...kafka, CHAT_MESSAGE_STORE: "cassandra", CASSANDRA_CONTACT_POINTS: "cassandra-0", CASSANDRA_LOCAL_DATACENTER: "dc1" };

describe("chat config > message store", () => {
  it("uses the SQL store when nothing is set, and ignores Cassandra variables then", () => {
    assert.deepEqual(loadChatConfig({}).messageStore, { kind: "sql" });
    assert.deepEqual(loadChatConfig({ CASSANDRA_CONTACT_POINTS: "cassandra-0" }).messageStore, { kind: "sql" });
  });

  it("uses Cassandra with the documented defaults, contact points with or without a port", () => {
    const config = loadChatConfig({ ...cassandra, CASSANDRA_CONTACT_POINTS: "cassandra-0, 10.0.0.7:19042,[::1]:9042" });
    assert.deepEqual(config.messageStore, {
      kind: "cassandra",
      contactPoints: ["cassandra-0", "10.0.0.7:19042", "[::1]:9042"],
      localDataCenter: "dc1",
      keyspace: "parley",
      replicationFactor: 3,
    });
    assert.ok(Object.isFrozen(config.messageStore));
  });

  it("reads the keyspace, replication factor and a username with a password file read when used", () => {
    const config = loadChatConfig({
      ...cassandra,
      CASSANDRA_KEYSPACE: "parley_eu",
      CASSANDRA_REPLICATION_FACTOR: "5",
      CASSANDRA_USERNAME: "chat",
      CASSANDRA_PASSWORD_FILE: "/run/secrets/nowhere",
    });
    const store = config.messageStore;
    assert.ok(store.kind === "cassandra");
    assert.deepEqual([store.keyspace, store.replicationFactor, store.username], ["parley_eu", 5, "chat"]);
    // The file is read when the driver signs in, not at config time; an unreadable one names the variable.
    assert.throws(() => store.password!(), /CASSANDRA_PASSWORD_FILE: cannot read \/run\/secrets\/nowhere/);
  });

  it("refuses an unknown CHAT_MESSAGE_STORE", () => {
    refuses({ CHAT_MESSAGE_STORE: "mongo" }, "CHAT_MESSAGE_STORE", /must be one of sql, cassandra/);
  });

  it("refuses Cassandra without the Kafka delivery bus, saying what replaces the outbox", () => {
    refuses(
      { ...cassandra, CHAT_DELIVERY_BUS: "memory" },
      "CHAT_MESSAGE_STORE",
      /needs CHAT_DELIVERY_BUS=kafka \(the delivery outbox exists only on the SQL store/,
    );
  });

  it("refuses Cassandra without contact points or a local data center, naming each", () => {
    refuses({ ...cassandra, CASSANDRA_CONTACT_POINTS: undefined }, "CASSANDRA_CONTACT_POINTS", /is required when CHAT_MESSAGE_STORE is cassandra/);
    refuses({ ...cassandra, CASSANDRA_LOCAL_DATACENTER: undefined }, "CASSANDRA_LOCAL_DATACENTER", /is required when CHAT_MESSAGE_STORE is cassandra/);
  });

  for (const points of ["cassandra-0:0", "cassandra-0:70000", "http://cassandra-0", ",", "[::1]", "a;b"]) {
    it(`refuses CASSANDRA_CONTACT_POINTS "${points}"`, () => {
      refuses({ ...cassandra, CASSANDRA_CONTACT_POINTS: points }, "CASSANDRA_CONTACT_POINTS", /comma-separated host or host:port/);
    });
  }

  it("refuses keyspace and data center names that could not go into CQL as they are", () => {
    refuses({ ...cassandra, CASSANDRA_KEYSPACE: "Parley" }, "CASSANDRA_KEYSPACE", /lower-case letters, digits or _/);
    refuses({ ...cassandra, CASSANDRA_KEYSPACE: "p".repeat(49) }, "CASSANDRA_KEYSPACE", /1 to 48/);
    refuses({ ...cassandra, CASSANDRA_LOCAL_DATACENTER: "dc'1" }, "CASSANDRA_LOCAL_DATACENTER", /letters, digits, _, \. or -/);
  });

  it("refuses a replication factor out of range, and a username or password file alone", () => {
    refuses({ ...cassandra, CASSANDRA_REPLICATION_FACTOR: "0" }, "CASSANDRA_REPLICATION_FACTOR", /whole number from 1 to 15/);
    refuses({ ...cassandra, CASSANDRA_USERNAME: "chat" }, "CASSANDRA_USERNAME", /needs CASSANDRA_PASSWORD_FILE/);
    refuses({ ...cassandra, CASSANDRA_PASSWORD_FILE: "/run/secrets/p" }, "CASSANDRA_PASSWORD_FILE", /needs CASSANDRA_USERNAME/);
  });
});

describe("chat config > edit and delete windows", () => {
  it("defaults to 15 minutes for edits and no limit (0) for deletions for everyone", () => {
    const config = loadChatConfig({});
    assert.deepEqual([config.editWindowSeconds, config.deleteWindowSeconds], [900, 0]);
  });

  it("reads both, 0 meaning no limit", () => {
    const config = loadChatConfig({ CHAT_EDIT_WINDOW_SECONDS: "0", CHAT_DELETE_WINDOW_SECONDS: "3600" });
    assert.deepEqual([config.editWindowSeconds, config.deleteWindowSeconds], [0, 3600]);
  });

  it("refuses a negative, fractional or over-long window at start, naming the variable", () => {
    refuses({ CHAT_EDIT_WINDOW_SECONDS: "-1" }, "CHAT_EDIT_WINDOW_SECONDS", /./);
    refuses({ CHAT_EDIT_WINDOW_SECONDS: "1.5" }, "CHAT_EDIT_WINDOW_SECONDS", /./);
    refuses({ CHAT_DELETE_WINDOW_SECONDS: "31536001" }, "CHAT_DELETE_WINDOW_SECONDS", /./);
    refuses({ CHAT_DELETE_WINDOW_SECONDS: "soon" }, "CHAT_DELETE_WINDOW_SECONDS", /./);
  });
});
