import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRouterTransport } from "@connectrpc/connect";
import { DeliverService } from "@parley/contracts/parley/gateway/v1/deliver";
import { createLogger } from "@parley/runtime";
import { until } from "@parley/testkit";
import { DeviceRegistry, type DeviceSocket } from "../../../gateway/src/domain/device-registry.js";
import { deliverService } from "../../../gateway/src/ws/deliver.js";
import { Gateways } from "../src/adapters/gateway-links.js";
import { deliveryWorker } from "../src/delivery.js";
import type { DeliveryEvent, DeviceLocation, DeviceLocator, NewMessagePush, PushNotifier } from "../src/ports.js";
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
    await deliveryWorker({ gateways, locator: downLocator, push: notifier, logger: silent, handedOn: (key) => handedOn.push(key) })([messageToBob()]);
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
    await deliveryWorker({ gateways, locator: downLocator, push: notifier, logger: silent })([messageToBob()]);
    assert.equal(written.length, 1, "written to bob's phone");
    assert.deepEqual(pushed, []);
    gateways.close();
  });
});

const ALICE = 1001n;
const CAROL = 3003n;
const messageTo = (userId: bigint, seq: bigint): DeliveryEvent => ({
  kind: "entry",
  entry: { userId, seq, item: { kind: "message", message: draft(77n, 9009n) } },
});

/** Presence on gateway g1, recording every lookup; a lookup naming a user in `unsure` fails whole, as presence's unsettled users do. */
function recordingLocator(devices: Map<bigint, DeviceLocation[]>, unsure: Set<bigint> = new Set()) {
  const lookups: bigint[][] = [];
  const locator: DeviceLocator = {
    async locate(userIds) {
      lookups.push([...userIds]);
      if (userIds.some((id) => unsure.has(id))) throw new Error("presence is moving this user between its instances");
      return new Map(userIds.filter((id) => devices.has(id)).map((id) => [id, devices.get(id)!]));
    },
    close: async () => {},
  };
  return { lookups, locator };
}

function phoneOf(userId: bigint, deviceId: bigint, written: [bigint, bigint][]): DeviceSocket {
  return {
    userId,
    deviceId,
    sessionId: deviceId,
    write: (frame) => written.push([userId, frame.body.case === "entry" ? frame.body.value.seq : -1n]) > 0,
    close: () => {},
  };
}

describe("delivery worker, given several events at once", () => {
  it("looks up all their recipients in one call and writes each event in order", async () => {
    const written: [bigint, bigint][] = [];
    const gateways = oneGateway([phoneOf(ALICE, 11n, written), phoneOf(BOB, 21n, written)]);
    const { lookups, locator } = recordingLocator(
      new Map([
        [ALICE, [{ deviceId: 11n, gatewayId: "g1" }]],
        [BOB, [{ deviceId: 21n, gatewayId: "g1" }]],
      ]),
    );
    const { pushed, notifier } = recordingPush();
    await deliveryWorker({ gateways, locator, push: notifier, logger: silent })([
      messageTo(ALICE, 1n),
      messageTo(BOB, 1n),
      messageTo(ALICE, 2n),
      messageTo(CAROL, 1n),
    ]);
    assert.deepEqual(lookups, [[ALICE, BOB, CAROL]]);
    await until(() => written.length === 3, "three frames written");
    assert.deepEqual(written, [
      [ALICE, 1n],
      [BOB, 1n],
      [ALICE, 2n],
    ]);
    assert.deepEqual(
      pushed.map((p) => p.recipientId),
      [CAROL],
      "carol has no device: pushed",
    );
    gateways.close();
  });

  it("falls back to every gateway only for a user presence cannot vouch for", async () => {
    const written: [bigint, bigint][] = [];
    const gateways = oneGateway([phoneOf(ALICE, 11n, written)]);
    const { lookups, locator } = recordingLocator(new Map([[ALICE, [{ deviceId: 11n, gatewayId: "g1" }]]]), new Set([CAROL]));
    const { pushed, notifier } = recordingPush();
    const handedOn: unknown[] = [];
    await deliveryWorker({ gateways, locator, push: notifier, logger: silent, handedOn: (key) => handedOn.push(key) })([
      messageTo(ALICE, 1n),
      messageTo(CAROL, 1n),
    ]);
    // The lookup of both failed on carol; each was asked again alone.
    assert.deepEqual(lookups.slice(0, 1), [[ALICE, CAROL]]);
    assert.deepEqual(lookups.slice(1).sort(), [[ALICE], [CAROL]].sort());
    await until(() => written.length === 1, "alice's frame");
    assert.deepEqual(written, [[ALICE, 1n]]);
    // Carol's message went to every gateway; none held her device, so it was pushed.
    assert.deepEqual(
      pushed.map((p) => p.recipientId),
      [CAROL],
    );
    assert.equal(handedOn.length, 2);
    gateways.close();
  });
});
