import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRouterTransport } from "@connectrpc/connect";
import { DeliverService } from "@parley/contracts/parley/gateway/v1/deliver";
import { createLogger } from "@parley/runtime";
import { DeviceRegistry, type DeviceSocket } from "../../../gateway/src/domain/device-registry.js";
import { deliverService } from "../../../gateway/src/ws/deliver.js";
import { Gateways } from "../src/adapters/gateway-links.js";
import { deliveryWorker } from "../src/delivery.js";
import type { DeliveryEvent, DeviceLocator, NewMessagePush, PushNotifier } from "../src/ports.js";
import { draft } from "./message-store-fixtures.js";

const silent = createLogger("test", "silent");
const BOB = 2002n;

/** Presence that cannot answer (its instance for the user died): the worker must fall back to the gateways. */
const downLocator: DeviceLocator = {
  locate: () => Promise.reject(new Error("presence is unavailable")),
  close: async () => {},
};

/** One real gateway DeliverService (on Connect's in-memory transport) over a registry holding `sockets`. */
function oneGateway(sockets: DeviceSocket[]): Gateways {
  const registry = new DeviceRegistry();
  for (const socket of sockets) registry.add(socket);
  const transport = createRouterTransport((router) => router.service(DeliverService, deliverService(registry)));
  const gateways = new Gateways(() => transport, silent);
  gateways.join({ gatewayId: "g1", deliverAddress: "" } as Parameters<Gateways["join"]>[0]);
  return gateways;
}

function recordingPush() {
  const pushed: NewMessagePush[] = [];
  const notifier: PushNotifier = {
    newMessage(push, settled) {
      pushed.push(push);
      settled?.("ended");
    },
    close: async () => {},
  };
  return { pushed, notifier };
}

const messageToBob = (): DeliveryEvent => ({ kind: "entry", entry: { userId: BOB, seq: 1n, item: { kind: "message", message: draft(77n, 1001n) } } });

describe("delivery worker, when presence cannot say where the recipient's devices are", () => {
  it("pushes a message that no gateway held a device for", async () => {
    const { pushed, notifier } = recordingPush();
    const gateways = oneGateway([]);
    const handedOn: unknown[] = [];
    await deliveryWorker({ gateways, locator: downLocator, push: notifier, logger: silent, handedOn: (key) => handedOn.push(key) })(messageToBob());
    assert.deepEqual(
      pushed.map((p) => p.recipientId),
      [BOB],
    );
    assert.equal(handedOn.length, 1, "handed on once its push ended");
    gateways.close();
  });

  it("does not push a message a gateway wrote to one of the recipient's devices", async () => {
    const { pushed, notifier } = recordingPush();
    const written: unknown[] = [];
    const phone: DeviceSocket = { userId: BOB, deviceId: 5n, sessionId: 9n, write: (frame) => written.push(frame) > 0, close: () => {} };
    const gateways = oneGateway([phone]);
    await deliveryWorker({ gateways, locator: downLocator, push: notifier, logger: silent })(messageToBob());
    assert.equal(written.length, 1, "written to bob's phone");
    assert.deepEqual(pushed, []);
    gateways.close();
  });
});
