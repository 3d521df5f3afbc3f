import { createClient, type Transport } from "@connectrpc/connect";
import { PresenceService } from "@parley/contracts/parley/presence/v1/presence";
import type { DeviceLocation, DeviceLocator } from "../ports.js";

interface Waiter {
  userIds: readonly bigint[];
  resolve: (found: Map<bigint, DeviceLocation[]>) => void;
  reject: (err: unknown) => void;
}

/**
 * Device locations from presence. Lookups that arrive while a call is in
 * flight share the next call, so the delivery worker's partitions cost one
 * LocateDevices per round trip rather than one per message.
 */
export class PresenceDeviceLocator implements DeviceLocator {
  private readonly client;
  private waiting: Waiter[] = [];
  private inFlight = false;

  constructor(transport: Transport) {
    this.client = createClient(PresenceService, transport);
  }

  locate(userIds: readonly bigint[]): Promise<Map<bigint, DeviceLocation[]>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ userIds, resolve, reject });
      if (!this.inFlight) void this.fetch();
    });
  }

  private async fetch(): Promise<void> {
    this.inFlight = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0);
      const users = [...new Set(batch.flatMap((w) => w.userIds))].slice(0, 1_000);
      try {
        const { sessions } = await this.client.locateDevices({ userIds: users });
        const all = new Map<bigint, DeviceLocation[]>();
        for (const s of sessions) {
          const list = all.get(s.userId) ?? [];
          list.push({ deviceId: s.deviceId, gatewayId: s.gatewayId });
          all.set(s.userId, list);
        }
        for (const waiter of batch) {
          waiter.resolve(new Map(waiter.userIds.flatMap((id) => (all.has(id) ? [[id, all.get(id)!] as const] : []))));
        }
      } catch (err) {
        for (const waiter of batch) waiter.reject(err);
      }
    }
    this.inFlight = false;
  }
}
