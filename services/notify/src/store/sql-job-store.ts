import type { Db } from "@parley/relational";
import type { Channel, Target } from "../providers/port.js";
import type { DeliveryJob, DeliveryState, JobStore, NewNotification, StoredNotification } from "./ports.js";

interface NotificationRow {
  id: string;
  event_id: string;
  user_id: string;
  kind: string;
  params: Record<string, string>;
  collapse_key: string;
  badge: number;
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

const NOTIFICATION_COLUMNS = "id, event_id, user_id, kind, params, collapse_key, badge, created_at";
const DELIVERY_COLUMNS = "id, notification_id, channel, target, device_id, state, attempts, last_error, next_attempt_at, lease_until";

/**
 * The job store on SQL (tables `notifications` and `deliveries`, see
 * notifyMigrations): runs unchanged on PGlite and on Postgres.
 *
 * Idempotency rests on the unique event_id: `INSERT ... ON CONFLICT DO
 * NOTHING` makes a concurrent repeat wait for the first transaction and then
 * insert nothing. Leasing is one UPDATE over a `FOR UPDATE SKIP LOCKED`
 * pick, so concurrent workers split the due jobs instead of queueing on them
 * (PGlite has a single session, where this is trivially true).
 */
export class SqlJobStore implements JobStore {
  constructor(private readonly db: Db) {}

  async accept(n: NewNotification, now: Date): Promise<{ notification: StoredNotification; duplicate: boolean }> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.query<NotificationRow>(
        `INSERT INTO notifications (event_id, user_id, kind, params, collapse_key, badge, created_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
         ON CONFLICT (event_id) DO NOTHING
         RETURNING ${NOTIFICATION_COLUMNS}`,
        [n.eventId, n.userId.toString(), n.kind, JSON.stringify(n.params), n.collapseKey, n.badge, now],
      );
      const row = inserted.rows[0];
      if (row === undefined) {
        const first = await tx.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE event_id = $1`, [n.eventId]);
        return { notification: toNotification(first.rows[0]!), duplicate: true };
      }
      for (const d of n.deliveries) {
        await tx.query(
          `INSERT INTO deliveries (notification_id, channel, target, device_id, state, last_error, next_attempt_at)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)`,
          [row.id, d.channel, JSON.stringify(d.target), d.deviceId?.toString() ?? null, d.state ?? "pending", d.reason ?? "", now],
        );
      }
      return { notification: toNotification(row), duplicate: false };
    });
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
    const notifications = await this.db.query<NotificationRow>(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = ANY($1::bigint[])`,
      [[...new Set(rows.map((r) => r.notification_id))]],
    );
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

  async listDead(limit: number): Promise<DeliveryJob[]> {
    const { rows } = await this.db.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE state = 'dead' ORDER BY id LIMIT $1`,
      [limit],
    );
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
    const id = notificationId.toString();
    const found = await this.db.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = $1`, [id]);
    const row = found.rows[0];
    if (row === undefined) return undefined;
    const { rows } = await this.db.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE notification_id = $1 ORDER BY id`,
      [id],
    );
    return { notification: toNotification(row), deliveries: rows.map(toJob) };
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
