import { create } from "@bufbuild/protobuf";
import { DeliverySchema } from "@parley/contracts/parley/gateway/v1/deliver";
import { ServerFrameSchema } from "@parley/contracts/parley/client/v1/client";
import { toInboxEntry } from "./convert.js";
import type { Gateways } from "./gateways.js";
import type { DeliveryEvent } from "./ports.js";

/**
 * The delivery worker: takes events off the bus (in order per recipient) and
 * hands them to the gateways as ready-made client frames.
 */
export function deliveryWorker(gateways: Gateways): (event: DeliveryEvent) => Promise<void> {
  let nextId = 1n;
  return async (event) => {
    if (event.kind === "entry") {
      gateways.deliver(
        create(DeliverySchema, {
          deliveryId: nextId++,
          userId: event.entry.userId,
          exceptDeviceId: event.exceptDeviceId ?? 0n,
          frame: create(ServerFrameSchema, { body: { case: "entry", value: toInboxEntry(event.entry) } }),
        }),
      );
    } else {
      gateways.deliver(
        create(DeliverySchema, {
          deliveryId: nextId++,
          userId: event.userId,
          frame: create(ServerFrameSchema, {
            body: { case: "typing", value: { conversationId: event.conversationId, userId: event.typerId, typing: event.typing } },
          }),
        }),
      );
    }
  };
}
