/**
 * The job store's procedures: run in the SQLite worker, each call in a
 * transaction of its own and one call at a time (see SqliteEngine). That
 * serialisation is what Postgres gets from its advisory lock (accepts of one
 * user) and FOR UPDATE SKIP LOCKED (leases): here no two calls ever overlap,
 * so a lease is a plain UPDATE and a count read before an insert stays true
 * until the commit. Times arrive and are stored as milliseconds since the epoch.
 */
import type { SqliteConnection } from "@parley/relational";
import type { Channel } from "../../../ports.js";
import { ERASED, type DeliveryJob, type NewNotification, type RateLimit, type StoredNotification, type TrackedEvent } from "../../../ports.js";
import { erasedNotification } from "../erasure.js";
import { DELIVERY_COLUMNS, NOTIFICATION_COLUMNS, toJob, toNotification, type DeliveryRow, type NotificationRow } from "./job-rows.js";

type WithDeliveries = { notification: StoredNotification; deliveries: DeliveryJob[] };

export function accept(
  db: SqliteConnection,
  n: NewNotification,
  now: number,
  rateLimit: RateLimit | undefined,
): { notification: StoredNotification; duplicate: boolean } {
  const limited = rateLimit !== undefined && recentCount(db, n.userId, now - rateLimit.windowMs, rateLimit.max) >= rateLimit.max;
  // Erased before it got here (a hand-off still queued in chat when the message was deleted): stored erased, sent to no one.
  const erased = db.run("DELETE FROM erased_events WHERE event_id = ?", [n.eventId]) > 0;
  const kept = erased ? erasedNotification(n) : n;
  const row = db.get<NotificationRow>(
    `INSERT INTO notifications (event_id, user_id, kind, params, collapse_key, badge, fingerprint, content, rate_limited, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (event_id) DO NOTHING
     RETURNING ${NOTIFICATION_COLUMNS}`,
    [n.eventId, n.userId, n.kind, JSON.stringify(kept.params), n.collapseKey, n.badge, kept.fingerprint, JSON.stringify(kept.content), limited ? 1 : 0, now],
  );
  if (row === undefined) {
    const first = db.get<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE event_id = ?`, [n.eventId])!;
    return { notification: toNotification(first), duplicate: true };
  }
  for (const d of n.deliveries) {
    const [state, reason] = erased ? ["skipped", ERASED.reason] : limited ? ["skipped", "rate limited"] : [d.state ?? "pending", d.reason ?? ""];
    db.run(
      `INSERT INTO deliveries (notification_id, channel, target, device_id, state, last_error, next_attempt_at, user_id, collapse_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, d.channel, JSON.stringify(d.target), d.deviceId ?? null, state, reason, now, n.userId, n.collapseKey],
    );
  }
  if (n.collapseKey !== "" && !limited && !erased) supersede(db, row.id, n.userId, n.collapseKey, now);
  return { notification: toNotification(row), duplicate: false };
}

/** Counts the user's notifications in the window, up to `cap`: enough to decide the limit without reading a whole burst. */
function recentCount(db: SqliteConnection, userId: bigint, since: number, cap: number): number {
  const row = db.get<{ n: bigint }>(
    "SELECT count(*) AS n FROM (SELECT 1 FROM notifications WHERE user_id = ? AND created_at > ? AND rate_limited = 0 LIMIT ?)",
    [userId, since, cap],
  );
  return Number(row?.n ?? 0n);
}

/**
 * Skips the user's older unleased pending deliveries with the same collapse key, channel and device as the new notification's.
 * Reads only pending deliveries (deliveries_pending_collapse), never the user's history.
 */
export const SUPERSEDE_SQL = `UPDATE deliveries SET state = 'skipped', last_error = $reason
WHERE user_id = $user AND collapse_key = $key AND state = 'pending' AND notification_id <> $id
  AND (lease_until IS NULL OR lease_until <= $now)
  AND EXISTS (SELECT 1 FROM deliveries nd WHERE nd.notification_id = $id AND nd.state = 'pending'
              AND nd.channel = deliveries.channel AND nd.device_id IS deliveries.device_id)`;

function supersede(db: SqliteConnection, notificationId: bigint, userId: bigint, collapseKey: string, now: number): void {
  db.run(SUPERSEDE_SQL, { reason: `superseded by notification ${notificationId}`, now, user: userId, key: collapseKey, id: notificationId });
}

export function lease(
  db: SqliteConnection,
  now: number,
  limit: number,
  leaseMs: number,
  channel: Channel | null,
): { job: DeliveryJob; notification: StoredNotification }[] {
  // SQLite reads a negative LIMIT as "no limit"; the port means none.
  if (limit <= 0) return [];
  const rows = db.all<DeliveryRow>(
    `UPDATE deliveries SET lease_until = $until
     WHERE id IN (
       SELECT id FROM deliveries
       WHERE state = 'pending' AND next_attempt_at <= $now
         AND (lease_until IS NULL OR lease_until <= $now)
         AND ($channel IS NULL OR channel = $channel)
       ORDER BY next_attempt_at, id
       LIMIT $limit)
     RETURNING ${DELIVERY_COLUMNS}`,
    { until: now + leaseMs, now, channel, limit },
  );
  // RETURNING comes in no defined order: due first, then the oldest job, as the port promises.
  rows.sort((a, b) => (a.next_attempt_at !== b.next_attempt_at ? (a.next_attempt_at < b.next_attempt_at ? -1 : 1) : a.id < b.id ? -1 : 1));
  const notifications = new Map<bigint, StoredNotification>();
  return rows.map((row) => {
    let notification = notifications.get(row.notification_id);
    if (notification === undefined) {
      notification = toNotification(db.get<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = ?`, [row.notification_id])!);
      notifications.set(row.notification_id, notification);
    }
    return { job: toJob(row), notification };
  });
}

export function markSent(db: SqliteConnection, jobId: bigint, now: number): void {
  db.run(
    `UPDATE deliveries SET state = 'sent', attempts = attempts + 1, last_error = '', lease_until = NULL, sent_at = ?
     WHERE id = ? AND state = 'pending'`,
    [now, jobId],
  );
}

export function markFailed(db: SqliteConnection, jobId: bigint, error: string, nextAttemptAt: number, dead: boolean): void {
  db.run(
    `UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_until = NULL
     WHERE id = ? AND state = 'pending'`,
    [dead ? "dead" : "pending", error, nextAttemptAt, jobId],
  );
}

export function markRejected(db: SqliteConnection, jobId: bigint, error: string): void {
  db.run(
    `UPDATE deliveries SET state = 'rejected', attempts = attempts + 1, last_error = ?, lease_until = NULL
     WHERE id = ? AND state = 'pending'`,
    [error, jobId],
  );
}

export function listDead(db: SqliteConnection, limit: number): DeliveryJob[] {
  return db.all<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE state = 'dead' ORDER BY id LIMIT ?`, [limit]).map(toJob);
}

export function retryDead(db: SqliteConnection, ids: bigint[] | undefined, now: number): number {
  if (ids === undefined) {
    return db.run("UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE state = 'dead'", [now]);
  }
  // One prepared single-row statement per id; a repeated id finds its job pending already and counts once.
  let retried = 0;
  for (const id of ids) {
    retried += db.run("UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE id = ? AND state = 'dead'", [
      now,
      id,
    ]);
  }
  return retried;
}

export function get(db: SqliteConnection, notificationId: bigint): WithDeliveries | undefined {
  const row = db.get<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = ?`, [notificationId]);
  return row === undefined ? undefined : withDeliveries(db, row);
}

export function listForUser(db: SqliteConnection, userId: bigint, limit: number): WithDeliveries[] {
  const rows = db.all<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, [
    userId,
    limit,
  ]);
  return rows.map((row) => withDeliveries(db, row));
}

function withDeliveries(db: SqliteConnection, row: NotificationRow): WithDeliveries {
  const deliveries = db.all<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE notification_id = ? ORDER BY id`, [row.id]);
  return { notification: toNotification(row), deliveries: deliveries.map(toJob) };
}

export function track(db: SqliteConnection, notificationId: bigint, deviceId: bigint, event: TrackedEvent, at: number): boolean {
  if (db.get("SELECT 1 FROM notifications WHERE id = ?", [notificationId]) === undefined) return false;
  // A repeat keeps the first time.
  db.run("INSERT INTO notification_events (notification_id, device_id, event, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [
    notificationId,
    deviceId,
    event,
    at,
  ]);
  return true;
}

/** Erases the notifications of these event ids and remembers the ones not seen yet (JobStore.erase); calls run one at a time, so no accept interleaves. */
export function erase(db: SqliteConnection, eventIds: readonly string[], now: number): number {
  let found = 0;
  for (const eventId of new Set(eventIds)) {
    const row = db.get<{ id: bigint }>(
      `UPDATE notifications SET params = json_remove(params, '$.' || ?), content = json_set(content, '$.body', ?), fingerprint = ?
       WHERE event_id = ? RETURNING id`,
      [ERASED.textParam, ERASED.body, ERASED.fingerprint, eventId],
    );
    if (row === undefined) {
      db.run("INSERT INTO erased_events (event_id, erased_at) VALUES (?, ?) ON CONFLICT DO NOTHING", [eventId, now]);
      continue;
    }
    found++;
    db.run("UPDATE deliveries SET state = 'skipped', last_error = ?, lease_until = NULL WHERE notification_id = ? AND state IN ('pending', 'dead')", [
      ERASED.reason,
      row.id,
    ]);
  }
  db.run("DELETE FROM erased_events WHERE erased_at < ?", [now - ERASED.unseenKeptMs]);
  return found;
}

export function depth(db: SqliteConnection): Record<string, number> {
  const rows = db.all<{ channel: string; n: bigint }>("SELECT channel, count(*) AS n FROM deliveries WHERE state = 'pending' GROUP BY channel");
  return Object.fromEntries(rows.map((r) => [r.channel, Number(r.n)]));
}
