import type { Migration } from "@parley/relational";

/**
 * The chat schema for the SQLite message store: the tables, keys and
 * indexes of the Postgres schema (../migrations.ts, both of its versions),
 * in SQLite's types. Released migrations never change; add new ones.
 *
 * Types: ids and seqs INTEGER (64-bit, exact as bigint), timestamps INTEGER
 * milliseconds since the epoch, booleans INTEGER 0/1, payloads BLOB; the
 * tables are STRICT so a wrong type is refused rather than stored. Codes as
 * in Postgres: conversations.kind 1 direct, 2 group;
 * conversation_members.role 1 member, 2 admin, 3 owner; inbox.kind 1
 * message, 2 read, 3 edited, 4 deleted for everyone, 5 deleted for the
 * user (version 3), 6 reaction added, 7 reaction removed (version 5).
 *
 * Tables whose rows are small and always reached by their whole primary
 * key (members, pairs, claims, inbox entries, cursors) are WITHOUT ROWID:
 * the row lives in the key's b-tree, so a write touches one b-tree, not
 * two. messages keeps a rowid because its text may be 100,000 characters,
 * which a WITHOUT ROWID b-tree stores badly. inbox_heads.user_id (dropped by version 2) and
 * conversations.id are INTEGER PRIMARY KEY, the rowid itself.
 */
export const sqliteChatMigrations: Migration[] = [
  {
    version: 1,
    name: "conversations, members, messages, inboxes, cursors, groups",
    sql: `
CREATE TABLE conversations (
  id INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  last_activity_id INTEGER NOT NULL,
  history_visible INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE conversation_members (
  conversation_id INTEGER NOT NULL REFERENCES conversations (id),
  user_id INTEGER NOT NULL,
  role INTEGER NOT NULL DEFAULT 1,
  joined_at INTEGER NOT NULL,
  read_message_id INTEGER NOT NULL DEFAULT 0,
  history_from_message_id INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX conversation_members_by_user ON conversation_members (user_id, conversation_id);
CREATE TABLE direct_pairs (
  user_low INTEGER NOT NULL,
  user_high INTEGER NOT NULL,
  conversation_id INTEGER NOT NULL UNIQUE REFERENCES conversations (id) DEFERRABLE INITIALLY DEFERRED,
  PRIMARY KEY (user_low, user_high),
  CHECK (user_low < user_high)
) STRICT, WITHOUT ROWID;
CREATE TABLE messages (
  conversation_id INTEGER NOT NULL REFERENCES conversations (id),
  message_id INTEGER NOT NULL,
  sender_id INTEGER NOT NULL,
  sender_device_id INTEGER NOT NULL,
  client_msg_id TEXT NOT NULL,
  text TEXT NOT NULL,
  system BLOB,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, message_id)
) STRICT;
CREATE TABLE sent_messages (
  sender_id INTEGER NOT NULL,
  client_msg_id TEXT NOT NULL,
  conversation_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  sender_seq INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (sender_id, client_msg_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE inbox (
  user_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  conversation_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  reader_id INTEGER,
  read_at INTEGER,
  PRIMARY KEY (user_id, seq),
  CHECK ((kind = 2) = (reader_id IS NOT NULL AND read_at IS NOT NULL))
) STRICT, WITHOUT ROWID;
CREATE TABLE inbox_heads (
  user_id INTEGER PRIMARY KEY,
  head_seq INTEGER NOT NULL
) STRICT;
CREATE TABLE device_cursors (
  user_id INTEGER NOT NULL,
  device_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (user_id, device_id)
) STRICT, WITHOUT ROWID;
`,
  },
  {
    // A user's head is now their newest inbox entry's seq (see InboxWriter), which the head row
    // always equalled: a send writes one page fewer per recipient.
    version: 2,
    name: "heads read from the inbox itself",
    sql: "DROP TABLE inbox_heads;",
  },
  {
    // As Postgres's version 5 (../message-changes-migration.ts): the last edit, a deletion for
    // everyone (its text overwritten with ''), deletions for one user, and inbox kinds 3, 4, 5.
    version: 3,
    name: "message edits and deletions: edited_at, deleted_at, hidden_messages",
    sql: `
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
CREATE TABLE hidden_messages (
  user_id INTEGER NOT NULL,
  conversation_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  hidden_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, conversation_id, message_id)
) STRICT, WITHOUT ROWID;
`,
  },
  {
    // Search: an external-content FTS5 index over messages.text (the text is stored once, in
    // messages; the index holds only its tokens; unicode61 folds case and removes diacritics, so
    // cafe finds café, splitting on everything but letters, marks and digits as the domain's
    // query words do), kept in step by triggers in the writing transaction. A send only queues
    // its rowid in messages_search_pending, moved into the index in batches and first thing in
    // every search (./search-index.ts says why: FTS5's cost per commit). An edit or an
    // erasure ('' for everyone) of a row already indexed removes its old tokens and queues it
    // again; of a row still pending it changes nothing (the move reads the current text). A
    // deleted row leaves the index or the queue. The rebuild indexes the rows already there.
    version: 4,
    name: "message search: messages_search (FTS5), its pending rows and their triggers",
    sql: `
CREATE VIRTUAL TABLE messages_search USING fts5(text, content = 'messages', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE messages_search_pending (
  message_rowid INTEGER PRIMARY KEY
) STRICT;
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_search_pending (message_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages BEGIN
  INSERT INTO messages_search (messages_search, rowid, text) SELECT 'delete', old.rowid, old.text
    WHERE NOT EXISTS (SELECT 1 FROM messages_search_pending WHERE message_rowid = old.rowid);
  INSERT OR IGNORE INTO messages_search_pending (message_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_search (messages_search, rowid, text) SELECT 'delete', old.rowid, old.text
    WHERE NOT EXISTS (SELECT 1 FROM messages_search_pending WHERE message_rowid = old.rowid);
  DELETE FROM messages_search_pending WHERE message_rowid = old.rowid;
END;
INSERT INTO messages_search (messages_search) VALUES ('rebuild');
`,
  },
  {
    // As Postgres's version 7 (../reactions-replies-migration.ts): reactions, inbox kinds 6 (added)
    // and 7 (removed) with who reacted, the emoji and when, the message a reply quotes, and the
    // members a message mentions (",12,34,": unread mention counts match ",<id>," in it).
    version: 5,
    name: "reactions, replies, mentions: message_reactions, reaction inbox entries, messages.reply_to_message_id and mentioned_user_ids",
    sql: `
CREATE TABLE message_reactions (
  conversation_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  emoji TEXT NOT NULL,
  reacted_at INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, message_id, user_id, emoji)
) STRICT, WITHOUT ROWID;
ALTER TABLE inbox ADD COLUMN actor_id INTEGER;
ALTER TABLE inbox ADD COLUMN emoji TEXT;
ALTER TABLE inbox ADD COLUMN acted_at INTEGER;
ALTER TABLE messages ADD COLUMN reply_to_message_id INTEGER;
ALTER TABLE messages ADD COLUMN mentioned_user_ids TEXT;
`,
  },
  {
    // Every message's rowid becomes its message id (new rows are inserted so, ./steps.ts), so
    // that search's FTS5 index, keyed by rowid, is walked newest first and a page of a word held
    // by most messages stops after its hits instead of reading and sorting them all. Message ids
    // are unique (Snowflake) and far above the rowids SQLite handed out, so the renumbering never
    // collides. The index is rebuilt under the new rowids; nothing else refers to them.
    version: 6,
    name: "messages.rowid = message_id (search walks newest first)",
    sql: `
UPDATE messages SET rowid = message_id;
DELETE FROM messages_search_pending;
INSERT INTO messages_search (messages_search) VALUES ('rebuild');
`,
  },
];
