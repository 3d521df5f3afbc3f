import { create } from "@bufbuild/protobuf";
import type { Delivery } from "@parley/contracts/parley/gateway/v1/deliver";
import { ServerFrameSchema, type ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { endSpan, SpanKind, startSpan, traceparentOf, type Logger, type Span } from "@parley/runtime";
import { additionOf } from "./domain/added-to-group.js";
import { toInboxEntry } from "./convert.js";
import type { Gateways } from "./adapters/gateway-links.js";
import {
  noChatMeter,
  type ChatMeter,
  type DeliveryEvent,
  type DeliveryHandler,
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
 * The delivery worker: takes events off the bus (in order per recipient,
 * several at a time), asks presence where their recipients' devices are
 * (one lookup for the lot), and hands each gateway holding one a ready-made
 * client frame for exactly those devices. When the recipient has no
 * connected device, another user's message goes to notify for a push. When
 * presence cannot answer for a recipient, every gateway is written to, and
 * a message none of them held a device for is pushed. The entry waits in
 * the inbox for the next sync either way.
 */
export function deliveryWorker(deps: DeliveryWorkerDeps): DeliveryHandler {
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
  /** One event, with its recipient's devices (undefined: presence could not say). A promise only when it must wait (a counted broadcast). */
  const deliverOne = (event: DeliveryEvent, located: readonly DeviceLocation[] | undefined): Promise<void> | undefined => {
    // Under the span that published the event, when tracing is on (the bus carries its context).
    const span = startSpan("chat deliver", SpanKind.CONSUMER);
    try {
      const waiting = deliverTraced(event, located, span);
      return waiting?.catch((err: unknown) => {
        endSpan(span, err);
        throw err;
      });
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  };
  const deliverTraced = (event: DeliveryEvent, located: readonly DeviceLocation[] | undefined, span: Span | undefined): Promise<void> | undefined => {
    const traceparent = span ? traceparentOf(span) : "";
    if (located !== undefined && located.length > 0) {
      const frame = frameOf(event);
      for (const [gatewayId, deviceIds] of byGateway(located)) deps.gateways.deliverTo(gatewayId, delivery(event, frame, deviceIds, traceparent));
      if (event.kind === "entry") meter.delivered("live");
      handOn(event);
      endSpan(span);
      return undefined;
    }
    const message = pushableMessage(event);
    const pushIfAway = (away: boolean) => {
      if (away && message !== undefined) {
        // Handed on when the push has ended, so a push lost with this process is made by another.
        deps.push.newMessage({ recipientId: recipientOf(event), message }, (outcome) => outcome === "ended" && handOn(event));
        meter.delivered("push");
        span?.setAttribute("parley.pushed", true);
      } else handOn(event);
      endSpan(span);
    };
    if (located !== undefined) return void pushIfAway(true);
    // Presence cannot say: every gateway writes to the devices it holds, and a message that
    // none of them held a device for is pushed, as for a recipient known to be away.
    const everywhere = delivery(event, frameOf(event), [], traceparent);
    if (message === undefined) {
      deps.gateways.broadcast(everywhere);
      if (event.kind === "entry") meter.delivered("live");
      return void pushIfAway(false);
    }
    return deps.gateways.broadcastCounted(everywhere).then((written) => {
      if (written > 0 && event.kind === "entry") meter.delivered("live");
      pushIfAway(written === 0);
    });
  };
  return async (events) => {
    const located = await locateAll(deps, events);
    const failures: unknown[] = [];
    for (const event of events) {
      try {
        const waiting = deliverOne(event, devicesOf(located, recipientOf(event)));
        if (waiting !== undefined) await waiting;
      } catch (err) {
        handOn(event); // a delivery that throws would throw again: not worth redelivering
        failures.push(err);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} deliveries failed`);
  };
}

const NO_DEVICES: readonly DeviceLocation[] = [];

/** The user's devices from a lookup's answer: none when it names none, undefined when presence could not say. */
function devicesOf(located: Map<bigint, DeviceLocation[] | undefined>, userId: bigint): readonly DeviceLocation[] | undefined {
  const devices = located.get(userId);
  return devices !== undefined || located.has(userId) ? devices : NO_DEVICES;
}

/**
 * The devices of the events' recipients, from one lookup: a recipient
 * mapped to undefined is one presence could not say about. A failed lookup
 * of several users is asked again user by user, since one user presence
 * cannot vouch for (its instances are moving them) fails the whole lookup:
 * then only that user's deliveries fall back to every gateway.
 */
async function locateAll(deps: DeliveryWorkerDeps, events: readonly DeliveryEvent[]): Promise<Map<bigint, DeviceLocation[] | undefined>> {
  const users = events.length === 1 ? [recipientOf(events[0]!)] : [...new Set(events.map(recipientOf))];
  try {
    return await deps.locator.locate(users);
  } catch (err) {
    if (users.length === 1) {
      warnUnlocated(deps, err);
      return new Map([[users[0]!, undefined]]);
    }
  }
  const found = new Map<bigint, DeviceLocation[] | undefined>();
  await Promise.all(
    users.map((userId) =>
      deps.locator.locate([userId]).then(
        (answer) => void found.set(userId, answer.get(userId) ?? []),
        (err: unknown) => {
          warnUnlocated(deps, err);
          found.set(userId, undefined);
        },
      ),
    ),
  );
  return found;
}

function warnUnlocated(deps: DeliveryWorkerDeps, err: unknown): void {
  deps.logger.warn({ err }, "presence could not locate devices; delivering through every gateway");
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
