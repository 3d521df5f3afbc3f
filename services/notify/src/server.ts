import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { withFieldChecks } from "@parley/runtime";
import { toChannels, toDelivery, toNotification, toTemplateName, toTrackedEvent } from "./convert.js";
import { InvalidInput } from "./errors.js";
import type { Notifications } from "./domain/notifications.js";

const DEAD_LETTERS_MAX = 500;
const USER_LIST_MAX = 100;
const RETRY_IDS_MAX = 1_000;

/** Wiring: NotifyService on the pipeline. Auth is an interceptor (auth.ts). */
export function notifyRoutes(notifications: Notifications): (router: ConnectRouter) => void {
  const impl: ServiceImpl<typeof NotifyService> = {
    async send(req) {
      const result = await notifications.send({
        eventId: req.eventId,
        userId: req.userId,
        kind: toTemplateName(req.kind),
        params: { ...req.params },
        channels: toChannels(req.channels),
        collapseKey: req.collapseKey,
        badge: req.badge,
      });
      return {
        notificationId: result.notification.id,
        duplicate: result.duplicate,
        queued: result.queued,
        skipped: result.skipped,
        rateLimited: result.notification.rateLimited,
      };
    },
    async getNotification(req) {
      return { notification: toNotification(await notifications.get(req.notificationId)) };
    },
    async listUserNotifications(req) {
      const limit = bounded("limit", req.limit, 20, USER_LIST_MAX);
      return { notifications: (await notifications.listForUser(req.userId, limit)).map(toNotification) };
    },
    async listDeadLetters(req) {
      const limit = bounded("limit", req.limit, 100, DEAD_LETTERS_MAX);
      return { deliveries: (await notifications.listDead(limit)).map(toDelivery) };
    },
    async retryDeadLetters(req) {
      if (req.deliveryIds.length > RETRY_IDS_MAX) throw new InvalidInput("delivery_ids", `must list at most ${RETRY_IDS_MAX} deliveries`);
      return { retried: await notifications.retryDead(req.deliveryIds.length === 0 ? undefined : req.deliveryIds) };
    },
    async trackEvent(req) {
      if (req.notificationId === 0n) throw new InvalidInput("notification_id", "is required");
      await notifications.track(req.notificationId, req.deviceId, toTrackedEvent(req.event));
      return {};
    },
  };
  // Every request first passes the rules all requests share (ids fit SQL bigint, no NUL in text).
  return (router) =>
    router.service(
      NotifyService,
      withFieldChecks(NotifyService, impl, (problem) => new InvalidInput(problem.field, problem.rule)),
    );
}

export const notifyServiceNames = [NotifyService.typeName];

function bounded(field: string, value: number, fallback: number, max: number): number {
  if (value === 0) return fallback;
  if (value > max) throw new InvalidInput(field, `must be 1 to ${max}`);
  return value;
}
