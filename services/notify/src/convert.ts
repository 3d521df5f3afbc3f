import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  Channel as ChannelEnum,
  DeliveryState as StateEnum,
  DeliverySchema,
  Kind,
  NotificationSchema,
  TrackedEvent as TrackedEnum,
  type Delivery,
  type Notification,
} from "@parley/contracts/parley/notify/v1/notify";
import { InvalidInput } from "./errors.js";
import type { NotificationWithDeliveries, RequestedChannel } from "./domain/notifications.js";
import type { DeliveryJob, DeliveryState, TrackedEvent } from "./ports.js";
import type { TemplateName } from "./domain/templates.js";

const KINDS: ReadonlyMap<Kind, TemplateName> = new Map([
  [Kind.NEW_MESSAGE, "new_message"],
  [Kind.ADDED_TO_GROUP, "added_to_group"],
  [Kind.FRIEND_REQUEST, "friend_request"],
]);
const KIND_OF = new Map([...KINDS].map(([k, v]) => [v, k]));

const CHANNELS: ReadonlyMap<ChannelEnum, RequestedChannel> = new Map([
  [ChannelEnum.PUSH, "push"],
  [ChannelEnum.EMAIL, "email"],
  [ChannelEnum.SMS, "sms"],
]);

const STATES: Record<DeliveryState, StateEnum> = {
  pending: StateEnum.PENDING,
  sent: StateEnum.SENT,
  dead: StateEnum.DEAD,
  skipped: StateEnum.SKIPPED,
  rejected: StateEnum.REJECTED,
};

export function toTemplateName(kind: Kind): TemplateName {
  const name = KINDS.get(kind);
  if (name === undefined) throw new InvalidInput("kind", `is not a known template (${[...KINDS.keys()].map((k) => Kind[k]).join(", ")})`);
  return name;
}

export function toChannels(channels: readonly ChannelEnum[]): RequestedChannel[] {
  return channels.map((c) => {
    const channel = CHANNELS.get(c);
    if (channel === undefined) throw new InvalidInput("channels", `holds an unknown channel (${c}); use PUSH, EMAIL or SMS`);
    return channel;
  });
}

export function toTrackedEvent(event: TrackedEnum): TrackedEvent {
  if (event === TrackedEnum.DELIVERED) return "delivered";
  if (event === TrackedEnum.OPENED) return "opened";
  throw new InvalidInput("event", "must be DELIVERED or OPENED");
}

/** The contract's channel for a delivery: every push provider is PUSH. */
function channelOf(job: DeliveryJob): ChannelEnum {
  return job.channel === "email" ? ChannelEnum.EMAIL : job.channel === "sms" ? ChannelEnum.SMS : ChannelEnum.PUSH;
}

export function toDelivery(job: DeliveryJob): Delivery {
  return create(DeliverySchema, {
    deliveryId: job.id,
    notificationId: job.notificationId,
    channel: channelOf(job),
    deviceId: job.deviceId ?? 0n,
    state: STATES[job.state],
    attempts: job.attempts,
    lastError: job.lastError,
    ...(job.state === "pending" ? { nextAttemptAt: timestampFromDate(job.nextAttemptAt) } : {}),
  });
}

export function toNotification({ notification: n, deliveries }: NotificationWithDeliveries): Notification {
  return create(NotificationSchema, {
    notificationId: n.id,
    eventId: n.eventId,
    userId: n.userId,
    kind: KIND_OF.get(n.kind as TemplateName) ?? Kind.UNSPECIFIED,
    deliveries: deliveries.map(toDelivery),
    createdAt: timestampFromDate(n.createdAt),
    rateLimited: n.rateLimited,
  });
}
