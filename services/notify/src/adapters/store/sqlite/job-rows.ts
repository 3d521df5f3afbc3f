/**
 * Rows of the notify tables as SQLite returns them (integers as bigint,
 * JSON as text) and their mapping to the port's types. Used by the
 * procedures, in the SQLite worker: what they return crosses to the main
 * thread by structured clone, which keeps bigint, Date and plain objects.
 */
import type { Channel, Target } from "../../../ports.js";
import type { DeliveryJob, DeliveryState, StoredNotification } from "../../../ports.js";

export interface NotificationRow {
  id: bigint;
  event_id: string;
  user_id: bigint;
  kind: string;
  params: string;
  collapse_key: string;
  badge: bigint;
  fingerprint: string;
  content: string;
  rate_limited: bigint;
  created_at: bigint;
}

export interface DeliveryRow {
  id: bigint;
  notification_id: bigint;
  channel: Channel;
  target: string;
  device_id: bigint | null;
  state: DeliveryState;
  attempts: bigint;
  last_error: string;
  next_attempt_at: bigint;
  lease_until: bigint | null;
}

export const NOTIFICATION_COLUMNS = "id, event_id, user_id, kind, params, collapse_key, badge, fingerprint, content, rate_limited, created_at";
export const DELIVERY_COLUMNS = "id, notification_id, channel, target, device_id, state, attempts, last_error, next_attempt_at, lease_until";

export function toNotification(row: NotificationRow): StoredNotification {
  return {
    id: row.id,
    eventId: row.event_id,
    userId: row.user_id,
    kind: row.kind,
    params: JSON.parse(row.params) as Record<string, string>,
    collapseKey: row.collapse_key,
    badge: Number(row.badge),
    fingerprint: row.fingerprint,
    content: JSON.parse(row.content) as StoredNotification["content"],
    rateLimited: row.rate_limited !== 0n,
    createdAt: new Date(Number(row.created_at)),
  };
}

export function toJob(row: DeliveryRow): DeliveryJob {
  const job: DeliveryJob = {
    id: row.id,
    notificationId: row.notification_id,
    channel: row.channel,
    target: JSON.parse(row.target) as Target,
    state: row.state,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    nextAttemptAt: new Date(Number(row.next_attempt_at)),
  };
  if (row.device_id !== null) job.deviceId = row.device_id;
  if (row.lease_until !== null) job.leaseUntil = new Date(Number(row.lease_until));
  return job;
}
