import type { Migration } from "@parley/relational";

/** The notify schema (component "notify"). Released migrations never change; add new ones. */
export const notifyMigrations: Migration[] = [
  {
    version: 1,
    name: "notifications_and_deliveries",
    sql: `
CREATE TABLE notifications (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  user_id bigint NOT NULL,
  kind text NOT NULL,
  params jsonb NOT NULL,
  collapse_key text NOT NULL,
  badge integer NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  notification_id bigint NOT NULL REFERENCES notifications (id),
  channel text NOT NULL CHECK (channel IN ('fcm', 'apns', 'webpush', 'email', 'sms')),
  target jsonb NOT NULL,
  device_id bigint,
  state text NOT NULL CHECK (state IN ('pending', 'sent', 'dead', 'skipped')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  next_attempt_at timestamptz NOT NULL,
  lease_until timestamptz,
  sent_at timestamptz
);

CREATE INDEX deliveries_notification ON deliveries (notification_id);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE state = 'pending';

CREATE INDEX deliveries_dead ON deliveries (id) WHERE state = 'dead';
`,
  },
  {
    version: 2,
    name: "content_rate_limits_rejections_tracking",
    sql: `
ALTER TABLE notifications ADD COLUMN fingerprint text NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN content jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE notifications ADD COLUMN rate_limited boolean NOT NULL DEFAULT false;

CREATE INDEX notifications_user_recent ON notifications (user_id, created_at DESC, id DESC);

ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN ('pending', 'sent', 'dead', 'skipped', 'rejected'));

CREATE TABLE notification_events (
  notification_id bigint NOT NULL REFERENCES notifications (id),
  device_id bigint NOT NULL,
  event text NOT NULL CHECK (event IN ('delivered', 'opened')),
  at timestamptz NOT NULL,
  PRIMARY KEY (notification_id, device_id, event)
);
`,
  },
  {
    version: 3,
    name: "pending_deliveries_by_collapse_key",
    // Collapsing used to find the older pending deliveries through every notification the user
    // ever had with the key (all of them, for a chatty conversation): one accept cost O(history),
    // a burst of N pushes O(N^2). Each delivery now carries its notification's user and collapse
    // key, and a partial index holds only the pending ones, so a collapse reads the handful that
    // can still be skipped. Deliveries in other states never collapse and keep NULLs. A delivery
    // queued by an older release during a rolling upgrade has NULLs too and is sent, not collapsed.
    sql: `
ALTER TABLE deliveries ADD COLUMN user_id bigint;
ALTER TABLE deliveries ADD COLUMN collapse_key text;

UPDATE deliveries d SET user_id = n.user_id, collapse_key = n.collapse_key
FROM notifications n
WHERE d.notification_id = n.id AND d.state = 'pending';

CREATE INDEX deliveries_pending_collapse ON deliveries (user_id, collapse_key) WHERE state = 'pending';
`,
  },
  {
    version: 4,
    name: "erased_events",
    // Event ids erased (a message deleted for everyone) before notify saw a Send for them: the
    // caller may still hold that Send in its queue. accept stores such a notification erased
    // (JobStore's Erase). Kept for ERASED.unseenKeptMs; erase prunes older ones by erased_at.
    // notifications.event_id is UNIQUE already, so erasing a stored notification needs no index.
    sql: `
CREATE TABLE erased_events (
  event_id text PRIMARY KEY,
  erased_at timestamptz NOT NULL
);

CREATE INDEX erased_events_age ON erased_events (erased_at);
`,
  },
];
