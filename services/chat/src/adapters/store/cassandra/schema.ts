import type { Cql } from "./cql.js";

/**
 * The chat keyspace and its tables (docs/architecture.md, "Message store on
 * Cassandra", says what each holds and why it is keyed so). Created at start,
 * idempotently: every statement is CREATE ... IF NOT EXISTS, and an existing
 * keyspace keeps its replication. Schema changes after the first release
 * must be additive (ALTER TABLE ... ADD) for the same reason.
 */
export function schemaStatements(keyspace: string, localDataCenter: string, replicationFactor: number): string[] {
  const t = (name: string) => `${keyspace}.${name}`;
  return [
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace}
     WITH replication = {'class': 'NetworkTopologyStrategy', '${localDataCenter}': ${replicationFactor}}`,
    `CREATE TABLE IF NOT EXISTS ${t("conversations")} (
       id bigint PRIMARY KEY, kind tinyint, name text, created_at timestamp, history_visible boolean, deleted boolean,
       version bigint, roles map<bigint, tinyint>, joined map<bigint, timestamp>, history_from map<bigint, bigint>,
       pending_message_id bigint, pending_text text, pending_system blob, pending_created_at timestamp, pending_recipients set<bigint>)`,
    `CREATE TABLE IF NOT EXISTS ${t("direct_pairs")} (user_low bigint, user_high bigint, conversation_id bigint, PRIMARY KEY ((user_low, user_high)))`,
    `CREATE TABLE IF NOT EXISTS ${t("user_conversations")} (user_id bigint, conversation_id bigint, PRIMARY KEY (user_id, conversation_id))`,
    `CREATE TABLE IF NOT EXISTS ${t("read_markers")} (conversation_id bigint, user_id bigint, read_message_id bigint, PRIMARY KEY (conversation_id, user_id))`,
    `CREATE TABLE IF NOT EXISTS ${t("messages")} (
       conversation_id bigint, month int, message_id bigint, sender_id bigint, sender_device_id bigint, client_msg_id text,
       text text, system blob, created_at timestamp,
       recipients set<bigint>, floors map<bigint, bigint>, owner uuid, lease_until timestamp, complete boolean, sender_seq bigint,
       PRIMARY KEY ((conversation_id, month), message_id)) WITH CLUSTERING ORDER BY (message_id DESC)`,
    `CREATE TABLE IF NOT EXISTS ${t("message_months")} (conversation_id bigint, month int, PRIMARY KEY (conversation_id, month))
     WITH CLUSTERING ORDER BY (month DESC)`,
    `CREATE TABLE IF NOT EXISTS ${t("sent_messages")} (
       sender_id bigint, client_msg_id text, conversation_id bigint, message_id bigint, claimed_at timestamp,
       PRIMARY KEY ((sender_id, client_msg_id)))`,
    `CREATE TABLE IF NOT EXISTS ${t("inbox")} (
       user_id bigint, bucket bigint, seq bigint, kind tinyint, conversation_id bigint, message_id bigint, reader_id bigint, read_at timestamp,
       PRIMARY KEY ((user_id, bucket), seq))`,
    `CREATE TABLE IF NOT EXISTS ${t("message_entries")} (conversation_id bigint, message_id bigint, user_id bigint, seq bigint,
       PRIMARY KEY ((conversation_id, message_id), user_id))`,
    `CREATE TABLE IF NOT EXISTS ${t("inbox_heads")} (user_id bigint PRIMARY KEY, head_seq bigint)`,
    `CREATE TABLE IF NOT EXISTS ${t("device_cursors")} (user_id bigint, device_id bigint, seq bigint, PRIMARY KEY (user_id, device_id))`,
    // Edits and deletions: the last edit and a deletion for everyone on the message row (its text overwritten with ''),
    // and the messages each user deleted for themselves, per conversation.
    `ALTER TABLE ${t("messages")} ADD edited_at timestamp`,
    `ALTER TABLE ${t("messages")} ADD deleted_at timestamp`,
    `CREATE TABLE IF NOT EXISTS ${t("hidden_messages")} (user_id bigint, conversation_id bigint, message_id bigint, hidden_at timestamp,
       PRIMARY KEY ((user_id, conversation_id), message_id))`,
    // Reactions: on the message row (a JSON list, changed by compare-and-set, so the caps hold), and inbox entries of kinds
    // 6 and 7 naming the emoji (who and when in reader_id and read_at, as edited entries do).
    `ALTER TABLE ${t("messages")} ADD reactions text`,
    `ALTER TABLE ${t("inbox")} ADD emoji text`,
    // Replies: the message of the same conversation a reply quotes (written by a reply's INSERT only).
    `ALTER TABLE ${t("messages")} ADD reply_to bigint`,
    // Mentions: the members a message mentions (written by the INSERT of a message with mentions only).
    `ALTER TABLE ${t("messages")} ADD mentioned set<bigint>`,
  ];
}

/** Creates what is missing. Keyspace and data center names are validated by the config (letters, digits, _ and -). */
export async function createSchema(cql: Cql, localDataCenter: string, replicationFactor: number): Promise<void> {
  for (const statement of schemaStatements(cql.keyspace, localDataCenter, replicationFactor)) {
    try {
      await cql.ddl(statement);
    } catch (err) {
      // ALTER TABLE ... ADD has no IF NOT EXISTS before Cassandra 5: a column added at an earlier start is refused so.
      if (!(statement.startsWith("ALTER TABLE") && /conflicts with an existing column|already exists/i.test(String((err as Error).message)))) throw err;
    }
  }
}
