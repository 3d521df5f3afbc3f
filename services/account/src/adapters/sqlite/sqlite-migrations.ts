import type { Migration } from "@parley/relational";

/**
 * The account schema on SQLite: the tables and keys of the Postgres schema
 * (src/migrations.ts, versions 1 to 4) in one migration, as SQLite has no
 * released data to migrate. Released migrations never change; add new ones.
 *
 * Differences, each for a reason:
 * - timestamps are INTEGER milliseconds since the epoch, booleans 0/1;
 * - the Postgres arrays and jsonb (used refresh hashes, muted conversation
 *   ids, the Web Push keys) are JSON text, read and written whole;
 * - ids are AUTOINCREMENT so that, like an identity column, they are never
 *   reused; users and devices start at 1000 as in Postgres;
 * - no account_auth_limits: on SQLite the brute-force counters live in
 *   memory (one process is the only account instance);
 * - no users_hiding_presence: hidingPresence looks each user up by primary key.
 * Tables are STRICT, so a value of the wrong type is an error, not a silent
 * conversion.
 */
export const accountSqliteMigrations: Migration[] = [
  {
    version: 1,
    name: "users, devices, sessions, friendships, settings",
    sql: `
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE devices (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users (id),
  name TEXT NOT NULL,
  push_platform INTEGER NOT NULL DEFAULT 0,
  push_token TEXT,
  push_web TEXT,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX devices_by_user ON devices (user_id);
CREATE INDEX devices_by_push_token ON devices (push_token) WHERE push_token IS NOT NULL;
INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 999), ('devices', 999);
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users (id),
  device_id INTEGER NOT NULL REFERENCES devices (id),
  handle TEXT NOT NULL,
  refresh_hash TEXT NOT NULL,
  used_refresh_hashes TEXT NOT NULL DEFAULT '[]',
  refresh_expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
CREATE UNIQUE INDEX sessions_by_handle ON sessions (handle);
CREATE INDEX live_sessions_by_device ON sessions (device_id) WHERE revoked_at IS NULL;
CREATE INDEX live_sessions_by_user ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE TABLE friend_requests (
  from_id INTEGER NOT NULL REFERENCES users (id),
  to_id INTEGER NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (from_id, to_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX friend_requests_by_recipient ON friend_requests (to_id);
CREATE TABLE friendships (
  user_id INTEGER NOT NULL REFERENCES users (id),
  friend_id INTEGER NOT NULL REFERENCES users (id),
  since INTEGER NOT NULL,
  PRIMARY KEY (user_id, friend_id)
) WITHOUT ROWID, STRICT;
CREATE TABLE user_settings (
  user_id INTEGER PRIMARY KEY REFERENCES users (id),
  push_enabled INTEGER NOT NULL,
  email_enabled INTEGER NOT NULL,
  sms_enabled INTEGER NOT NULL,
  show_previews INTEGER NOT NULL,
  muted_conversation_ids TEXT NOT NULL,
  hide_presence INTEGER NOT NULL,
  email TEXT NOT NULL,
  phone TEXT NOT NULL,
  preview_length INTEGER NOT NULL DEFAULT 0 CHECK (preview_length BETWEEN 0 AND 500)
) STRICT;
`,
  },
  {
    version: 2,
    name: "blocks; disabled accounts",
    sql: `
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
CREATE TABLE blocks (
  blocker_id INTEGER NOT NULL REFERENCES users (id),
  blocked_id INTEGER NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (blocker_id, blocked_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX blocks_by_blocked ON blocks (blocked_id);
`,
  },
  {
    version: 3,
    name: "mute mentions setting",
    sql: `
ALTER TABLE user_settings ADD COLUMN mute_mentions INTEGER NOT NULL DEFAULT 0 CHECK (mute_mentions IN (0, 1));
`,
  },
];
