import { randomBytes } from "node:crypto";
import { CassandraMessageStore } from "../src/adapters/store/cassandra/cassandra-message-store.js";
import { connectCassandra, type CassandraSettings } from "../src/adapters/store/cassandra/cql.js";
import { monthOf } from "../src/adapters/store/cassandra/buckets.js";
import { describeMessageStoreBatchContract } from "./message-store-batch-contract.js";
import { describeMessageStoreChangesContract } from "./message-store-changes-contract.js";
import { describeMessageStoreReactionsContract } from "./message-store-reactions-contract.js";
import { describeMessageStoreMentionsContract } from "./message-store-mentions-contract.js";
import { describeMessageStoreRepliesContract } from "./message-store-replies-contract.js";
import { describeMessageStoreContract, type OpenedMessageStore } from "./message-store-contract.js";
import { describeMessageStoreGroupContract } from "./message-store-group-contract.js";
import { describeMessageStoreReadingContract } from "./message-store-reading-contract.js";

/*
 * The Cassandra message store against a real cluster: the same four
 * contract suites the SQL adapters pass. It runs only when
 * CASSANDRA_CONTACT_POINTS names a node (host[:port], comma-separated;
 * CASSANDRA_LOCAL_DATACENTER defaults to "datacenter1", Cassandra's own
 * default). No Cassandra server can be installed on the development
 * machines, so there these suites have NOT run: the adapter is written
 * against cassandra-driver 4.10.0's API and type-checked, and its pure parts
 * are unit-tested (cassandra-store-unit.test.ts). Without a server this file
 * registers no test at all (a skipped test would read as a pass) and says so
 * on stderr.
 */
const contactPoints = process.env.CASSANDRA_CONTACT_POINTS?.split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "");

if (contactPoints === undefined || contactPoints.length === 0) {
  process.stderr.write("NOT RUN: Cassandra message store contract suite (CASSANDRA_CONTACT_POINTS is not set)\n");
} else {
  describeCassandraStore(contactPoints);
}

function describeCassandraStore(contactPoints: string[]): void {
  /** A keyspace of its own for each suite (replication 1, for a test cluster), dropped when the suite is done. */
  const open = async (): Promise<OpenedMessageStore> => {
    const settings: CassandraSettings = {
      contactPoints,
      localDataCenter: process.env.CASSANDRA_LOCAL_DATACENTER ?? "datacenter1",
      keyspace: `parley_test_${randomBytes(6).toString("hex")}`,
      replicationFactor: 1,
    };
    const store = await CassandraMessageStore.open(settings);
    const reader = await connectCassandra(settings);
    return {
      store,
      async storedText(conversationId, messageId) {
        const [row] = await reader.read(`SELECT text FROM ${settings.keyspace}.messages WHERE conversation_id = ? AND month = ? AND message_id = ?`, [
          conversationId,
          monthOf(messageId),
          messageId,
        ]);
        return row === undefined ? undefined : String(row.text);
      },
      async cleanup() {
        await store.close();
        await reader.close();
        const admin = await connectCassandra(settings);
        try {
          await admin.ddl(`DROP KEYSPACE IF EXISTS ${settings.keyspace}`);
        } finally {
          await admin.close();
        }
      },
    };
  };

  describeMessageStoreContract("cassandra", open);
  describeMessageStoreGroupContract("cassandra", open);
  describeMessageStoreReadingContract("cassandra", open);
  describeMessageStoreBatchContract("cassandra", open);
  describeMessageStoreChangesContract("cassandra", open);
  describeMessageStoreReactionsContract("cassandra", open);
  describeMessageStoreRepliesContract("cassandra", open);
  describeMessageStoreMentionsContract("cassandra", open);
}
