import { create } from "@bufbuild/protobuf";
import { DeliverySchema, type Delivery } from "@parley/contracts/parley/gateway/v1/deliver";
import { ServerFrameSchema, type ServerFrame } from "@parley/contracts/parley/client/v1/client";
import type { Logger } from "@parley/runtime";
import { toInboxEntry } from "./convert.js";
import type { Gateways } from "./gateways.js";
import type { DeliveryEvent, DeviceLocator } from "./ports.js";

/**
 * The delivery worker: takes events off the bus (in order per recipient),
 * asks presence where the recipient's devices are, and hands each gateway
 * holding one a ready-made client frame for exactly those devices. A user
 * with no connected device gets nothing live (push arrives with notify);
 * the entry waits in their inbox for the next sync either way.
 */
export function deliveryWorker(gateways: Gateways, locator: DeviceLocator, logger: Logger): (event: DeliveryEvent) => Promise<void> {
  let nextId = 1n;
  return async (event) => {
    const userId = event.kind === "entry" ? event.entry.userId : event.userId;
    const frame = event.kind === "entry" ? entryFrame(event) : typingFrame(event);
    const delivery = (deviceIds: bigint[]): Delivery =>
      create(DeliverySchema, {
        deliveryId: nextId++,
        userId,
        deviceIds,
        exceptDeviceId: event.kind === "entry" ? (event.exceptDeviceId ?? 0n) : 0n,
        frame,
      });
    let located;
    try {
      located = (await locator.locate([userId])).get(userId) ?? [];
    } catch (err) {
      logger.warn({ err }, "presence could not locate devices; delivering through every gateway");
      gateways.broadcast(delivery([]));
      return;
    }
    const byGateway = new Map<string, bigint[]>();
    for (const { gatewayId, deviceId } of located) byGateway.set(gatewayId, [...(byGateway.get(gatewayId) ?? []), deviceId]);
    for (const [gatewayId, deviceIds] of byGateway) gateways.deliverTo(gatewayId, delivery(deviceIds));
  };
}

function entryFrame(event: Extract<DeliveryEvent, { kind: "entry" }>): ServerFrame {
  return create(ServerFrameSchema, { body: { case: "entry", value: toInboxEntry(event.entry) } });
}

function typingFrame(event: Extract<DeliveryEvent, { kind: "typing" }>): ServerFrame {
  return create(ServerFrameSchema, {
    body: { case: "typing", value: { conversationId: event.conversationId, userId: event.typerId, typing: event.typing } },
  });
}
