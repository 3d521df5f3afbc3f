import type { Migration } from "@parley/relational";
import { appendBatchMigration } from "./append-batch-migration.js";
import { appendBatchPlansMigration } from "./append-batch-plans-migration.js";
import { messageChangesMigration } from "./message-changes-migration.js";
import { outboxMigration } from "./outbox-migration.js";
import { searchIndexMigration } from "./search-index-migration.js";
import { reactionsRepliesMigration } from "./reactions-replies-migration.js";

/**
 * The chat schema for the SQL message store. Released migrations never
 * change; add new ones. Codes: conversations.kind 1 direct, 2 group;
 * conversation_members.role 1 member, 2 admin, 3 owner; inbox.kind 1 message, 2 read,
 * 3 edited, 4 deleted for everyone, 5 deleted for the user (version 5),
 * 6 reaction added, 7 reaction removed (version 7).
 *
 * There is no users table: accounts live in the account service, so user
 * ids are plain bigints here. Indexes follow the queries: history reads the
 * messages primary key backwards; the conversation list starts from
 * conversation_members_by_user, which leaves read_message_id out so that
 * moving a read marker stays a HOT update; inbox reads and seq allocation
 * use their primary keys; search uses messages_text_search (version 6). direct_pairs' key is the claim that makes
 * concurrent openDirect calls agree; its foreign key is checked at commit
 * because the pair row is written before its conversation.
 */
export const chatMigrations: Migration[] = [
  {
    version: 1,
    name: "conversations, members, messages, inboxes, cursors",
    sql: `
CREATE TABLE conversations (
  id bigint PRIMARY KEY,
  kind smallint NOT NULL,
  name text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  last_activity_id bigint NOT NULL
);
CREATE TABLE conversation_members (
  conversation_id bigint NOT NULL REFERENCES conversations (id),
  user_id bigint NOT NULL,
  role smallint NOT NULL DEFAULT 1,
  joined_at timestamptz NOT NULL DEFAULT now(),
  read_message_id bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_by_user ON conversation_members (user_id, conversation_id);
CREATE TABLE direct_pairs (
  user_low bigint NOT NULL,
  user_high bigint NOT NULL,
  conversation_id bigint NOT NULL UNIQUE REFERENCES conversations (id) DEFERRABLE INITIALLY DEFERRED,
  PRIMARY KEY (user_low, user_high),
  CHECK (user_low < user_high)
);
CREATE TABLE messages (
  conversation_id bigint NOT NULL REFERENCES conversations (id),
  message_id bigint NOT NULL,
  sender_id bigint NOT NULL,
  sender_device_id bigint NOT NULL,
  client_msg_id text NOT NULL,
  text text NOT NULL,
  system bytea,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (conversation_id, message_id)
);
CREATE TABLE sent_messages (
  sender_id bigint NOT NULL,
  client_msg_id text NOT NULL,
  conversation_id bigint NOT NULL,
  message_id bigint NOT NULL,
  sender_seq bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (sender_id, client_msg_id)
);
CREATE TABLE inbox (
  user_id bigint NOT NULL,
  seq bigint NOT NULL,
  kind smallint NOT NULL,
  conversation_id bigint NOT NULL,
  message_id bigint NOT NULL,
  reader_id bigint,
  read_at timestamptz,
  PRIMARY KEY (user_id, seq),
  CHECK ((kind = 2) = (reader_id IS NOT NULL AND read_at IS NOT NULL))
);
CREATE TABLE inbox_heads (
  user_id bigint PRIMARY KEY,
  head_seq bigint NOT NULL
);
CREATE TABLE device_cursors (
  user_id bigint NOT NULL,
  device_id bigint NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (user_id, device_id)
);
`,
  },
  {
    version: 2,
    name: "groups: history visibility, deletion, member history horizons",
    // history_from_message_id 0 lets a member read all history; deleted groups keep their rows.
    sql: `
ALTER TABLE conversations
  ADD COLUMN history_visible boolean NOT NULL DEFAULT false,
  ADD COLUMN deleted boolean NOT NULL DEFAULT false;
ALTER TABLE conversation_members ADD COLUMN history_from_message_id bigint NOT NULL DEFAULT 0;
`,
  },
  appendBatchMigration,
  outboxMigration,
  messageChangesMigration,
  searchIndexMigration,
  reactionsRepliesMigration,
  appendBatchPlansMigration,
];
