import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Subscriptions, type Device } from "../src/domain/subscriptions.js";

const ALICE = 1001n;
const BOB = 1002n;
const CAROL = 1003n;
const alicePhone: Device = { gatewayId: "gw-1", userId: ALICE, deviceId: 11n };
const aliceLaptop: Device = { gatewayId: "gw-2", userId: ALICE, deviceId: 12n };
const bobPhone: Device = { gatewayId: "gw-1", userId: BOB, deviceId: 21n };

describe("subscriptions", () => {
  it("finds every device subscribed to a user, grouped by gateway", () => {
    const subs = new Subscriptions();
    subs.subscribe(alicePhone, [CAROL, BOB]);
    subs.subscribe(aliceLaptop, [CAROL]);
    subs.subscribe(bobPhone, [CAROL, ALICE]);
    assert.deepEqual(subs.subscribersOf(CAROL), [alicePhone, aliceLaptop, bobPhone]);
    assert.deepEqual(
      subs.subscribersByGateway(CAROL),
      new Map([
        ["gw-1", [11n, 21n]],
        ["gw-2", [12n]],
      ]),
    );
    assert.deepEqual(subs.subscribersOf(ALICE), [bobPhone]);
    assert.deepEqual(subs.subscribersOf(999n), []);
  });

  it("adds to a device's earlier subscriptions and ignores repeats", () => {
    const subs = new Subscriptions();
    subs.subscribe(alicePhone, [BOB]);
    subs.subscribe(alicePhone, [BOB, CAROL]);
    assert.deepEqual(subs.subscriptionsOf(alicePhone), [BOB, CAROL]);
    assert.deepEqual(subs.subscribersOf(BOB), [alicePhone]);
  });

  it("unsubscribes a device from some users", () => {
    const subs = new Subscriptions();
    subs.subscribe(alicePhone, [BOB, CAROL]);
    subs.unsubscribe(alicePhone, [BOB]);
    assert.deepEqual(subs.subscribersOf(BOB), []);
    assert.deepEqual(subs.subscribersOf(CAROL), [alicePhone]);
  });

  it("forgets everything a device subscribed to when it unsubscribes", () => {
    const subs = new Subscriptions();
    subs.subscribe(alicePhone, [BOB, CAROL]);
    subs.subscribe(aliceLaptop, [CAROL]);
    subs.unsubscribeDevice(alicePhone);
    subs.unsubscribeDevice(alicePhone);
    assert.deepEqual(subs.subscribersOf(BOB), []);
    assert.deepEqual(subs.subscribersOf(CAROL), [aliceLaptop]);
    assert.deepEqual(subs.subscriptionsOf(alicePhone), []);
  });

  it("forgets every device of a gateway and only those", () => {
    const subs = new Subscriptions();
    subs.subscribe(alicePhone, [CAROL]);
    subs.subscribe(bobPhone, [CAROL]);
    subs.subscribe(aliceLaptop, [CAROL]);
    subs.unsubscribeGateway("gw-1");
    subs.unsubscribeGateway("gw-unknown");
    assert.deepEqual(subs.subscribersOf(CAROL), [aliceLaptop]);
    assert.deepEqual(subs.subscribersByGateway(CAROL), new Map([["gw-2", [12n]]]));
  });

  it("tells the same device on two gateways apart", () => {
    const subs = new Subscriptions();
    const moved: Device = { ...alicePhone, gatewayId: "gw-3" };
    subs.subscribe(alicePhone, [CAROL]);
    subs.subscribe(moved, [CAROL]);
    subs.unsubscribeGateway("gw-1");
    assert.deepEqual(subs.subscribersOf(CAROL), [moved]);
  });
});
