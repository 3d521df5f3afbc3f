import type { Logger } from "@parley/runtime";
import { Kafka, logLevel, type Admin, type LogEntry } from "kafkajs";

/** Where the brokers are and who this client is to them. */
export interface KafkaClientSettings {
  /** host:port of one or more brokers; the client finds the rest of the cluster from them. */
  brokers: readonly string[];
  /** Names this process in the brokers' logs and quotas. */
  clientId: string;
}

/**
 * A kafkajs client whose own log lines go to the service's logger (JSON,
 * like every other line) instead of kafkajs's console logger. kafkajs logs
 * connection and group events, never record contents.
 */
export function kafkaClient(settings: KafkaClientSettings, logger?: Logger): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: logLevel.INFO,
    ...(logger ? { logCreator: () => (entry: LogEntry) => logKafkaEntry(logger, entry) } : {}),
  });
}

function logKafkaEntry(logger: Logger, { namespace, level, log }: LogEntry): void {
  const { message, timestamp: _timestamp, ...fields } = log;
  const line = { kafka: namespace, ...fields };
  if (level === logLevel.ERROR) logger.error(line, message);
  else if (level === logLevel.WARN) logger.warn(line, message);
  else if (level === logLevel.INFO) logger.info(line, message);
  else logger.debug(line, message);
}

/**
 * Creates the topic with `partitions` partitions when it is missing; leaves
 * an existing topic as it is (its partition count included: changing it
 * would move keys to other partitions and break per-user order while the
 * old records drain). The replication factor is the brokers'
 * `default.replication.factor`; production wants 3 with
 * `min.insync.replicas` 2, so that acks from all in-sync replicas mean two
 * copies at least.
 */
export async function ensureTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.connect();
  try {
    // Resolves false when the topic exists already (kafkajs treats TOPIC_ALREADY_EXISTS so).
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}
