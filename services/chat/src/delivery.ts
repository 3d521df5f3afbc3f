import { create } from "@bufbuild/protobuf";
import type { Delivery } from "@parley/contracts/parley/gateway/v1/deliver";
import { ServerFrameSchema, type ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { endSpan, SpanKind, startSpan, traceparentOf, type Logger } from "@parley/runtime";
import { additionOf } from "./domain/added-to-group.js";
import { toInboxEntry } from "./convert.js";
import type { Gateways } from "./adapters/gateway-links.js";
import {
  noChatMeter,
  type ChatMeter,
  type DeliveryEvent,
  type DeviceLocation,
  type DeviceLocator,
  type EntryKey,
  type PushNotifier,
  type StoredMessage,
} from "./ports.js";

export interface DeliveryWorkerDeps {
  gateways: Gateways;
  locator: DeviceLocator;
  push: PushNotifier;
  logger: Logger;
  /**
   * Told when an entry's delivery attempt has ended: written to its gateways,
   * found to need nothing, or its push to notify ended (not abandoned). The
   * delivery outbox drops the entry then; one never told about is delivered
   * again by a chat process that finds it overdue.
   */
  handedOn?: (key: EntryKey) => void;
  /** Told how each inbox entry went on: live to gateways, or to notify for a push. */
  meter?: Pick<ChatMeter, "delivered">;
}

/**
 * The delivery worker: takes events off the bus (in order per recipient),
 * asks presence where the recipient's devices are, and hands each gateway
 * holding one a ready-made client frame for exactly those devices. When the
 * recipient has no connected device, another user's message goes to notify
 * for a push. When presence cannot answer, every gateway is written to, and
 * a message none of them held a device for is pushed. The entry waits in the
 * inbox for the next sync either way.
 */
export function deliveryWorker(deps: DeliveryWorkerDeps): (event: DeliveryEvent) => Promise<void> {
  let nextId = 1n;
  const meter = deps.meter ?? noChatMeter;
  // A literal, not create(): one per delivery (see toMessage in ./convert.ts).
  const delivery = (event: DeliveryEvent, frame: ServerFrame, deviceIds: bigint[], traceparent: string): Delivery => ({
    $typeName: "parley.gateway.v1.Delivery",
    deliveryId: nextId++,
    userId: recipientOf(event),
    deviceIds,
    exceptDeviceId: event.kind === "entry" ? (event.exceptDeviceId ?? 0n) : 0n,
    frame,
    traceparent,
  });
  const handOn = (event: DeliveryEvent) => {
    if (event.kind === "entry") deps.handedOn?.(event.entry);
  };
  return async (event) => {
    // Under the span that published the event, when tracing is on (the bus carries its context).
    const span = startSpan("chat deliver", SpanKind.CONSUMER);
    const traceparent = span ? traceparentOf(span) : "";
    try {
      const located = await locate(deps, recipientOf(event));
      if (located !== undefined && located.length > 0) {
        const frame = frameOf(event);
        for (const [gatewayId, deviceIds] of byGateway(located)) deps.gateways.deliverTo(gatewayId, delivery(event, frame, deviceIds, traceparent));
        if (event.kind === "entry") meter.delivered("live");
      } else {
        const message = pushableMessage(event);
        let away = located !== undefined;
        if (located === undefined) {
          // Presence cannot say: every gateway writes to the devices it holds, and a message that
          // none of them held a device for is pushed, as for a recipient known to be away.
          const everywhere = delivery(event, frameOf(event), [], traceparent);
          if (message === undefined) deps.gateways.broadcast(everywhere);
          else away = (await deps.gateways.broadcastCounted(everywhere)) === 0;
          if (!away && event.kind === "entry") meter.delivered("live");
        }
        if (away && message !== undefined) {
          // Handed on when the push has ended, so a push lost with this process is made by another.
          deps.push.newMessage({ recipientId: recipientOf(event), message }, (outcome) => outcome === "ended" && handOn(event));
          meter.delivered("push");
          span?.setAttribute("parley.pushed", true);
          endSpan(span);
          return;
        }
      }
    } catch (err) {
      handOn(event); // a delivery that throws would throw again: not worth redelivering
      endSpan(span, err);
      throw err;
    }
    handOn(event);
    endSpan(span);
  };
}

/**
 * The message a push would announce: another user's message in the
 * recipient's inbox, or the system message saying someone else added the
 * recipient to a group. Never typing, read receipts, edits, deletions, a
 * message deleted since, other system messages or the sender's own entry
 * (their other devices sync it).
 */
export function pushableMessage(event: DeliveryEvent): StoredMessage | undefined {
  if (event.kind !== "entry" || event.entry.item.kind !== "message") return undefined;
  const { message } = event.entry.item;
  // Read again after it was deleted (an overdue entry): nothing to announce.
  if (message.deletedAt !== undefined) return undefined;
  if (message.senderId === 0n) return additionOf(message, event.entry.userId) === undefined ? undefined : message;
  return message.senderId !== event.entry.userId ? message : undefined;
}

/** The user's connected devices; undefined when presence could not say. */
async function locate(deps: DeliveryWorkerDeps, userId: bigint): Promise<DeviceLocation[] | undefined> {
  try {
    return (await deps.locator.locate([userId])).get(userId) ?? [];
  } catch (err) {
    deps.logger.warn({ err }, "presence could not locate devices; delivering through every gateway");
    return undefined;
  }
}

function byGateway(located: readonly DeviceLocation[]): Map<string, bigint[]> {
  const devices = new Map<string, bigint[]>();
  for (const { gatewayId, deviceId } of located) {
    const held = devices.get(gatewayId);
    if (held === undefined) devices.set(gatewayId, [deviceId]);
    else held.push(deviceId);
  }
  return devices;
}

function recipientOf(event: DeliveryEvent): bigint {
  return event.kind === "entry" ? event.entry.userId : event.userId;
}

function frameOf(event: DeliveryEvent): ServerFrame {
  return event.kind === "entry" ? entryFrame(event) : typingFrame(event);
}

/** A literal, not create(): one per delivery (see toMessage in ../convert.ts). */
function entryFrame(event: Extract<DeliveryEvent, { kind: "entry" }>): ServerFrame {
  return { $typeName: "parley.client.v1.ServerFrame", id: 0n, body: { case: "entry", value: toInboxEntry(event.entry) } };
}

function typingFrame(event: Extract<DeliveryEvent, { kind: "typing" }>): ServerFrame {
  return create(ServerFrameSchema, {
    body: { case: "typing", value: { conversationId: event.conversationId, userId: event.typerId, typing: event.typing } },
  });
}
