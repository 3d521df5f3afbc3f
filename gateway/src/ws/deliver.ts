import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { DeliverResponseSchema, type DeliverService, type DeliveryResult } from "@parley/contracts/parley/gateway/v1/deliver";
import { contextOf, endSpan, SpanKind, startSpan } from "@parley/runtime";
import type { DeviceRegistry } from "../domain/device-registry.js";

/** DeliverService: writes each delivery's frame to the matching devices this gateway holds. */
export function deliverService(registry: DeviceRegistry): Partial<ServiceImpl<typeof DeliverService>> {
  return {
    async *deliver(requests) {
      for await (const request of requests) {
        const results = request.deliveries.map((delivery) => {
          const parent = contextOf(delivery.traceparent);
          const span = parent && startSpan("gateway deliver", SpanKind.SERVER, parent);
          // A user's devices on one gateway are a handful: a scan, not a Set per delivery.
          const wanted = delivery.deviceIds.length > 0 ? delivery.deviceIds : undefined;
          const delivered: bigint[] = [];
          for (const socket of registry.devicesOf(delivery.userId)) {
            if (socket.deviceId === delivery.exceptDeviceId) continue;
            if (wanted && !wanted.includes(socket.deviceId)) continue;
            if (delivery.frame && socket.write(delivery.frame)) delivered.push(socket.deviceId);
          }
          span?.setAttribute("parley.devices_written", delivered.length);
          endSpan(span);
          // A literal, not create(): one per delivery, on the hot path (docs/performance.md).
          const result: DeliveryResult = { $typeName: "parley.gateway.v1.DeliveryResult", deliveryId: delivery.deliveryId, deliveredDeviceIds: delivered };
          return result;
        });
        yield create(DeliverResponseSchema, { results });
      }
    },
  };
}
