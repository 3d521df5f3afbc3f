import type { Migration } from "@parley/relational";

/**
 * The notify schema on SQLite (component "notify"): the tables, keys and
 * indexes of notifyMigrations in SQLite's terms. Timestamps are INTEGER
 * milliseconds since the epoch, JSON is TEXT, booleans are 0/1. STRICT
 * tables refuse a value of the wrong type instead of storing it as given.
 * Released migrations never change; add new ones.
 */
export const notifySqliteMigrations: Migration[] = [
  {
    version: 1,
    name: "notifications_deliveries_events",
    sql: `
-- AUTOINCREMENT: like Postgres's identity, an id is never handed out twice (notification ids reach clients).
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  user_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  params TEXT NOT NULL,
  collapse_key TEXT NOT NULL,
  badge INTEGER NOT NULL,
  fingerprint TEXT NOT NULL DEFAULT '',
  content TEXT NOT NULL DEFAULT '{}',
  rate_limited INTEGER NOT NULL DEFAULT 0 CHECK (rate_limited IN (0, 1)),
  created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX notifications_user_recent ON notifications (user_id, created_at DESC, id DESC);

CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  notification_id INTEGER NOT NULL REFERENCES notifications (id),
  channel TEXT NOT NULL CHECK (channel IN ('fcm', 'apns', 'webpush', 'email', 'sms')),
  target TEXT NOT NULL,
  device_id INTEGER,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead', 'skipped', 'rejected')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER,
  sent_at INTEGER
) STRICT;

CREATE INDEX deliveries_notification ON deliveries (notification_id);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE state = 'pending';

CREATE INDEX deliveries_dead ON deliveries (id) WHERE state = 'dead';

CREATE TABLE notification_events (
  notification_id INTEGER NOT NULL REFERENCES notifications (id),
  device_id INTEGER NOT NULL,
  event TEXT NOT NULL CHECK (event IN ('delivered', 'opened')),
  at INTEGER NOT NULL,
  PRIMARY KEY (notification_id, device_id, event)
) STRICT;
`,
  },
  {
    version: 2,
    name: "pending_deliveries_by_collapse_key",
    // As the Postgres migration 3 (migrations.ts): collapsing reads the user's pending deliveries
    // with the key from a partial index instead of every notification the user ever had with it.
    sql: `
ALTER TABLE deliveries ADD COLUMN user_id INTEGER;
ALTER TABLE deliveries ADD COLUMN collapse_key TEXT;

UPDATE deliveries SET
  user_id = (SELECT n.user_id FROM notifications n WHERE n.id = deliveries.notification_id),
  collapse_key = (SELECT n.collapse_key FROM notifications n WHERE n.id = deliveries.notification_id)
WHERE state = 'pending';

CREATE INDEX deliveries_pending_collapse ON deliveries (user_id, collapse_key) WHERE state = 'pending';
`,
  },
  {
    version: 3,
    name: "erased_events",
    // As the Postgres migration 4 (migrations.ts): event ids erased before notify saw their Send.
    sql: `
CREATE TABLE erased_events (
  event_id TEXT PRIMARY KEY,
  erased_at INTEGER NOT NULL
) STRICT;

CREATE INDEX erased_events_age ON erased_events (erased_at);
`,
  },
];
