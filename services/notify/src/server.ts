import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { NotifyService, SendResponseSchema, type SendRequest, type SendResponse } from "@parley/contracts/parley/notify/v1/notify";
import { withFieldChecks, type ErrorTranslator } from "@parley/runtime";
import { toChannels, toDelivery, toNotification, toTemplateName, toTrackedEvent } from "./convert.js";
import { InvalidInput } from "./errors.js";
import type { Notifications } from "./domain/notifications.js";

const DEAD_LETTERS_MAX = 500;
const USER_LIST_MAX = 100;
const RETRY_IDS_MAX = 1_000;
/** Most sends one SendBatch carries. */
export const SEND_BATCH_MAX = 500;
const SEND_BATCH_METHOD = `${NotifyService.typeName}/SendBatch`;

/**
 * Wiring: NotifyService on the pipeline. Auth is an interceptor (auth.ts);
 * `errors` gives each failed send of a batch the status Send would have
 * answered it with.
 */
export function notifyRoutes(notifications: Notifications, errors: ErrorTranslator): (router: ConnectRouter) => void {
  const send = async (req: SendRequest): Promise<SendResponse> => {
    const result = await notifications.send({
      eventId: req.eventId,
      userId: req.userId,
      kind: toTemplateName(req.kind),
      params: { ...req.params },
      channels: toChannels(req.channels),
      collapseKey: req.collapseKey,
      badge: req.badge,
    });
    return create(SendResponseSchema, {
      notificationId: result.notification.id,
      duplicate: result.duplicate,
      queued: result.queued,
      skipped: result.skipped,
      rateLimited: result.notification.rateLimited,
    });
  };
  const impl: ServiceImpl<typeof NotifyService> = {
    send,
    async sendBatch(req) {
      const count = req.requests.length;
      if (count === 0 || count > SEND_BATCH_MAX) throw new InvalidInput("requests", `must hold 1 to ${SEND_BATCH_MAX} sends`);
      const outcomes = await Promise.all(
        req.requests.map((one) =>
          send(one).then(
            (value) => ({ outcome: { case: "sent" as const, value } }),
            (err: unknown) => {
              const status = errors.status(err, SEND_BATCH_METHOD);
              return { outcome: { case: "error" as const, value: { code: status.code, message: status.rawMessage } } };
            },
          ),
        ),
      );
      return { outcomes };
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
    async erase(req) {
      return { erased: await notifications.erase(req.eventIds) };
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
