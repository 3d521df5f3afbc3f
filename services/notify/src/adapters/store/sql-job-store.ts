import type { Db } from "@parley/relational";
import type { Channel, Target } from "../../ports.js";
import {
  ERASED,
  type DeliveryJob,
  type DeliveryState,
  type JobStore,
  type NewNotification,
  type RateLimit,
  type Rendered,
  type StoredNotification,
  type TrackedEvent,
} from "../../ports.js";
import { erasedNotification } from "./erasure.js";

interface NotificationRow {
  id: string;
  event_id: string;
  user_id: string;
  kind: string;
  params: Record<string, string>;
  collapse_key: string;
  badge: number;
  fingerprint: string;
  content: Rendered;
  rate_limited: boolean;
  created_at: Date;
}

interface DeliveryRow {
  id: string;
  notification_id: string;
  channel: Channel;
  target: Target;
  device_id: string | null;
  state: DeliveryState;
  attempts: number;
  last_error: string;
  next_attempt_at: Date;
  lease_until: Date | null;
}

/** The advisory lock key prefix that serialises accept and erase of one event id. */
const EVENT_LOCK = "parley.notify.event.";

const NOTIFICATION_COLUMNS = "id, event_id, user_id, kind, params, collapse_key, badge, fingerprint, content, rate_limited, created_at";
const DELIVERY_COLUMNS = "id, notification_id, channel, target, device_id, state, attempts, last_error, next_attempt_at, lease_until";

/**
 * Skips the user's older unleased pending deliveries with the same collapse key, channel and device as the new notification's.
 * Reads only pending deliveries (deliveries_pending_collapse), never the user's history.
 */
export const SUPERSEDE_SQL = `UPDATE deliveries d SET state = 'skipped', last_error = $4
WHERE d.user_id = $1 AND d.collapse_key = $2 AND d.notification_id <> $3
  AND d.state = 'pending' AND (d.lease_until IS NULL OR d.lease_until <= $5)
  AND EXISTS (SELECT 1 FROM deliveries nd WHERE nd.notification_id = $3 AND nd.state = 'pending'
              AND nd.channel = d.channel AND nd.device_id IS NOT DISTINCT FROM d.device_id)`;

/**
 * The job store on SQL (tables `notifications` and `deliveries`, see
 * notifyMigrations): the Postgres adapter (the embedded SQLite has its own in sqlite/).
 *
 * Idempotency rests on the unique event_id: `INSERT ... ON CONFLICT DO
 * NOTHING` makes a concurrent repeat wait for the first transaction and then
 * insert nothing. Leasing is one UPDATE over a `FOR UPDATE SKIP LOCKED`
 * pick, so concurrent workers split the due jobs instead of queueing on them
 * (the SQLite adapter runs one call at a time, where this is trivially true).
 */
export class SqlJobStore implements JobStore {
  constructor(private readonly db: Db) {}

  async accept(n: NewNotification, now: Date, rateLimit?: RateLimit): Promise<{ notification: StoredNotification; duplicate: boolean }> {
    const userId = n.userId.toString();
    return this.db.transaction(async (tx) => {
      // One accept per user at a time: the rate-limit count and the collapse read what earlier accepts wrote.
      await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [userId]);
      // And one accept or erase per event id: an erase that commits first leaves its mark for this read, one that comes later sees this row.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('${EVENT_LOCK}' || $1))`, [n.eventId]);
      const limited =
        rateLimit !== undefined && (await this.recentCount(tx, userId, new Date(now.getTime() - rateLimit.windowMs), rateLimit.max)) >= rateLimit.max;
      // Erased before it got here (a hand-off still queued in chat when the message was deleted): stored erased, sent to no one.
      const erased = (await tx.query("DELETE FROM erased_events WHERE event_id = $1 RETURNING event_id", [n.eventId])).rows.length > 0;
      const kept = erased ? erasedNotification(n) : n;
      const inserted = await tx.query<NotificationRow>(
        `INSERT INTO notifications (event_id, user_id, kind, params, collapse_key, badge, fingerprint, content, rate_limited, created_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8::jsonb, $9, $10)
         ON CONFLICT (event_id) DO NOTHING
         RETURNING ${NOTIFICATION_COLUMNS}`,
        [n.eventId, userId, n.kind, JSON.stringify(kept.params), n.collapseKey, n.badge, kept.fingerprint, JSON.stringify(kept.content), limited, now],
      );
      const row = inserted.rows[0];
      if (row === undefined) {
        const first = await tx.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE event_id = $1`, [n.eventId]);
        return { notification: toNotification(first.rows[0]!), duplicate: true };
      }
      for (const d of n.deliveries) {
        const [state, reason] = erased ? ["skipped", ERASED.reason] : limited ? ["skipped", "rate limited"] : [d.state ?? "pending", d.reason ?? ""];
        await tx.query(
          `INSERT INTO deliveries (notification_id, channel, target, device_id, state, last_error, next_attempt_at, user_id, collapse_key)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9)`,
          [row.id, d.channel, JSON.stringify(d.target), d.deviceId?.toString() ?? null, state, reason, now, userId, n.collapseKey],
        );
      }
      if (n.collapseKey !== "" && !limited && !erased) await this.supersede(tx, row.id, userId, n.collapseKey, now);
      return { notification: toNotification(row), duplicate: false };
    });
  }

  /** Counts the user's notifications in the window, up to `cap`: enough to decide the limit without reading a whole burst. */
  private async recentCount(tx: Db, userId: string, since: Date, cap: number): Promise<number> {
    const { rows } = await tx.query<{ n: string | number }>(
      "SELECT count(*) AS n FROM (SELECT 1 FROM notifications WHERE user_id = $1 AND created_at > $2 AND NOT rate_limited LIMIT $3) recent",
      [userId, since, cap],
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async supersede(tx: Db, notificationId: string, userId: string, collapseKey: string, now: Date): Promise<void> {
    await tx.query(SUPERSEDE_SQL, [userId, collapseKey, notificationId, `superseded by notification ${notificationId}`, now]);
  }

  async lease(now: Date, limit: number, leaseMs: number, channel?: Channel): Promise<{ job: DeliveryJob; notification: StoredNotification }[]> {
    if (limit <= 0) return [];
    const { rows } = await this.db.query<DeliveryRow>(
      `WITH picked AS (
         SELECT id FROM deliveries
         WHERE state = 'pending' AND next_attempt_at <= $1
           AND (lease_until IS NULL OR lease_until <= $1)
           AND ($4::text IS NULL OR channel = $4::text)
         ORDER BY next_attempt_at, id
         LIMIT $2
         FOR UPDATE SKIP LOCKED)
       UPDATE deliveries d SET lease_until = $3
       FROM picked WHERE d.id = picked.id
       RETURNING ${qualified("d", DELIVERY_COLUMNS)}`,
      [now, limit, new Date(now.getTime() + leaseMs), channel ?? null],
    );
    if (rows.length === 0) return [];
    const notifications = await this.db.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = ANY($1::bigint[])`, [
      [...new Set(rows.map((r) => r.notification_id))],
    ]);
    const byId = new Map(notifications.rows.map((r) => [r.id, toNotification(r)]));
    return rows
      .map(toJob)
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || (a.id < b.id ? -1 : 1))
      .map((job) => ({ job, notification: byId.get(job.notificationId.toString())! }));
  }

  async markSent(jobId: bigint, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE deliveries SET state = 'sent', attempts = attempts + 1, last_error = '', lease_until = NULL, sent_at = $2
       WHERE id = $1 AND state = 'pending'`,
      [jobId.toString(), now],
    );
  }

  async markFailed(jobId: bigint, error: string, nextAttemptAt: Date, dead: boolean): Promise<void> {
    await this.db.query(
      `UPDATE deliveries SET state = $4, attempts = attempts + 1, last_error = $2, next_attempt_at = $3, lease_until = NULL
       WHERE id = $1 AND state = 'pending'`,
      [jobId.toString(), error, nextAttemptAt, dead ? "dead" : "pending"],
    );
  }

  async markRejected(jobId: bigint, error: string): Promise<void> {
    await this.db.query(
      `UPDATE deliveries SET state = 'rejected', attempts = attempts + 1, last_error = $2, lease_until = NULL
       WHERE id = $1 AND state = 'pending'`,
      [jobId.toString(), error],
    );
  }

  async listDead(limit: number): Promise<DeliveryJob[]> {
    const { rows } = await this.db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE state = 'dead' ORDER BY id LIMIT $1`, [limit]);
    return rows.map(toJob);
  }

  async retryDead(ids: bigint[] | undefined, now: Date): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1, lease_until = NULL
       WHERE state = 'dead' AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))`,
      [now, ids === undefined ? null : ids.map(String)],
    );
    return rowCount;
  }

  async get(notificationId: bigint): Promise<{ notification: StoredNotification; deliveries: DeliveryJob[] } | undefined> {
    const found = await this.db.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = $1`, [notificationId.toString()]);
    return (await this.withDeliveries(found.rows))[0];
  }

  async listForUser(userId: bigint, limit: number): Promise<{ notification: StoredNotification; deliveries: DeliveryJob[] }[]> {
    const found = await this.db.query<NotificationRow>(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [userId.toString(), limit],
    );
    return this.withDeliveries(found.rows);
  }

  async track(notificationId: bigint, deviceId: bigint, event: TrackedEvent, at: Date): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO notification_events (notification_id, device_id, event, at)
       SELECT id, $2, $3, $4 FROM notifications WHERE id = $1
       ON CONFLICT DO NOTHING`,
      [notificationId.toString(), deviceId.toString(), event, at],
    );
    if (rowCount > 0) return true;
    const known = await this.db.query("SELECT 1 FROM notifications WHERE id = $1", [notificationId.toString()]);
    return known.rows.length > 0;
  }

  /** The notifications in the given order, each with its deliveries in id order. */
  private async withDeliveries(rows: NotificationRow[]): Promise<{ notification: StoredNotification; deliveries: DeliveryJob[] }[]> {
    if (rows.length === 0) return [];
    const deliveries = await this.db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE notification_id = ANY($1::bigint[]) ORDER BY id`, [
      rows.map((r) => r.id),
    ]);
    const byNotification = new Map<string, DeliveryJob[]>();
    for (const d of deliveries.rows) byNotification.set(d.notification_id, [...(byNotification.get(d.notification_id) ?? []), toJob(d)]);
    return rows.map((r) => ({ notification: toNotification(r), deliveries: byNotification.get(r.id) ?? [] }));
  }

  async erase(eventIds: readonly string[], now: Date): Promise<number> {
    const ids = [...new Set(eventIds)].sort();
    if (ids.length === 0) return 0;
    return this.db.transaction(async (tx) => {
      // The event locks accept takes, in one order for every erase, so two erases never deadlock.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('${EVENT_LOCK}' || id)) FROM (SELECT unnest($1::text[]) AS id ORDER BY 1) ids`, [ids]);
      const found = await tx.query<{ id: string; event_id: string }>(
        `UPDATE notifications SET params = params - $2::text, content = jsonb_set(content, '{body}', to_jsonb($3::text)), fingerprint = $4
         WHERE event_id = ANY($1::text[]) RETURNING id, event_id`,
        [ids, ERASED.textParam, ERASED.body, ERASED.fingerprint],
      );
      await tx.query(
        `UPDATE deliveries SET state = 'skipped', last_error = $2, lease_until = NULL
         WHERE notification_id = ANY($1::bigint[]) AND state IN ('pending', 'dead')`,
        [found.rows.map((r) => r.id), ERASED.reason],
      );
      const seen = new Set(found.rows.map((r) => r.event_id));
      await tx.query("INSERT INTO erased_events (event_id, erased_at) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING", [
        ids.filter((id) => !seen.has(id)),
        now,
      ]);
      await tx.query("DELETE FROM erased_events WHERE erased_at < $1", [new Date(now.getTime() - ERASED.unseenKeptMs)]);
      return found.rows.length;
    });
  }

  async depth(): Promise<Record<string, number>> {
    const { rows } = await this.db.query<{ channel: string; n: string | number }>(
      "SELECT channel, count(*) AS n FROM deliveries WHERE state = 'pending' GROUP BY channel",
    );
    return Object.fromEntries(rows.map((r) => [r.channel, Number(r.n)]));
  }
}

function qualified(alias: string, columns: string): string {
  return columns
    .split(", ")
    .map((c) => `${alias}.${c}`)
    .join(", ");
}

function toNotification(row: NotificationRow): StoredNotification {
  return {
    id: BigInt(row.id),
    eventId: row.event_id,
    userId: BigInt(row.user_id),
    kind: row.kind,
    params: row.params,
    collapseKey: row.collapse_key,
    badge: row.badge,
    fingerprint: row.fingerprint,
    content: row.content,
    rateLimited: row.rate_limited,
    createdAt: row.created_at,
  };
}

function toJob(row: DeliveryRow): DeliveryJob {
  const job: DeliveryJob = {
    id: BigInt(row.id),
    notificationId: BigInt(row.notification_id),
    channel: row.channel,
    target: row.target,
    state: row.state,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
  };
  if (row.device_id !== null) job.deviceId = BigInt(row.device_id);
  if (row.lease_until !== null) job.leaseUntil = row.lease_until;
  return job;
}
