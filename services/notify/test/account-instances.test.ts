import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DeliveryState, Kind } from "@parley/contracts/parley/notify/v1/notify";
import { until } from "@parley/testkit";
import type { Channel, Provider } from "../src/ports.js";
import { FcmProvider } from "../src/adapters/providers/fcm.js";
import { startNotifyHarness, type NotifyHarness } from "./harness.js";
import { credential, LocalAgent, startFakeFcm } from "./stand-ins/fcm.js";

const message = { kind: Kind.NEW_MESSAGE, params: { conversation_id: "42", sender_name: "Ada", preview: "hi" }, collapseKey: "conversation:42", badge: 1 };

/**
 * With replicas, each account instance announces only the changes made on
 * it: notify follows every instance, so a change made on any of them drops
 * the user's cached targets at once, long before the cache's TTL (30 s here).
 */
for (const kind of ["sqlite", "postgres"] as const) {
  describe(`notify with two account instances (${kind})`, () => {
    let fcm: Awaited<ReturnType<typeof startFakeFcm>>;
    let h: NotifyHarness;

    before(async () => {
      fcm = await startFakeFcm();
      const providers = new Map<Channel, Provider>([["fcm", new FcmProvider({ projectId: "demo-test", credential, httpAgent: new LocalAgent(fcm.port) })]]);
      h = await startNotifyHarness(kind, providers, {}, { accountInstances: 2 });
    });
    after(async () => {
      await h.close();
      fcm.server.closeAllConnections();
      await new Promise((resolve) => fcm.server.close(resolve));
    });

    it("stops pushing to a user who turned push off through the other account instance, without waiting for the cache to expire", async () => {
      const u = await h.user(`twice_${kind}`);
      const warm = await h.api.send({ eventId: `warm-${u.id}`, userId: u.id, ...message }); // fills the cache from instance 0
      await until(
        async () => (await h.api.getNotification({ notificationId: warm.notificationId })).notification!.deliveries[0]?.state === DeliveryState.SENT,
        "the first push",
      );
      await h.accountApis[1]!.updateSettings({ settings: { pushEnabled: false }, fields: ["push_enabled"] }, { headers: u.headers });
      const skipped = await until(
        async () => {
          const r = await h.api.send({ eventId: `off-${u.id}-${Date.now()}`, userId: u.id, ...message });
          return r.skipped === 1 ? r : undefined;
        },
        "the change made on the other instance to reach notify",
        { timeoutMs: 5_000 },
      );
      assert.equal(skipped.skipped, 1);
    });
  });
}
