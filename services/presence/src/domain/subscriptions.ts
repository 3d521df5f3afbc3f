/** A subscribing device: the viewer's device on one gateway. */
export interface Device {
  gatewayId: string;
  userId: bigint;
  deviceId: bigint;
}

interface Entry {
  device: Device;
  targets: Set<bigint>;
}

/**
 * Which devices want to hear about which users' status (a device subscribes
 * to its user's friends). Pure data: no transport, no timers. Every operation
 * is idempotent; lookups cost O(subscribers of that user).
 */
export class Subscriptions {
  private readonly byDevice = new Map<string, Entry>();
  private readonly byTarget = new Map<bigint, Map<string, Device>>();
  private readonly byGateway = new Map<string, Set<string>>();

  /** Adds `userIds` to what `device` hears about (keeps earlier subscriptions). */
  subscribe(device: Device, userIds: Iterable<bigint>): void {
    const key = deviceKey(device);
    let entry = this.byDevice.get(key);
    if (!entry) {
      entry = { device: { ...device }, targets: new Set() };
      this.byDevice.set(key, entry);
      let keys = this.byGateway.get(device.gatewayId);
      if (!keys) {
        keys = new Set();
        this.byGateway.set(device.gatewayId, keys);
      }
      keys.add(key);
    }
    for (const userId of userIds) {
      entry.targets.add(userId);
      let devices = this.byTarget.get(userId);
      if (!devices) {
        devices = new Map();
        this.byTarget.set(userId, devices);
      }
      devices.set(key, entry.device);
    }
  }

  /** Stops `device` hearing about `userIds` (say, an unfriended user). */
  unsubscribe(device: Device, userIds: Iterable<bigint>): void {
    const key = deviceKey(device);
    const entry = this.byDevice.get(key);
    if (!entry) return;
    for (const userId of userIds) {
      if (entry.targets.delete(userId)) this.dropTarget(userId, key);
    }
    if (entry.targets.size === 0) this.unsubscribeDevice(device);
  }

  /** Forgets everything `device` subscribed to (it disconnected). */
  unsubscribeDevice(device: Device): void {
    const key = deviceKey(device);
    const entry = this.byDevice.get(key);
    if (!entry) return;
    for (const userId of entry.targets) this.dropTarget(userId, key);
    this.byDevice.delete(key);
    const keys = this.byGateway.get(device.gatewayId)!;
    keys.delete(key);
    if (keys.size === 0) this.byGateway.delete(device.gatewayId);
  }

  /** Forgets every device of a gateway (its stream ended for good). */
  unsubscribeGateway(gatewayId: string): void {
    for (const key of [...(this.byGateway.get(gatewayId) ?? [])]) this.unsubscribeDevice(this.byDevice.get(key)!.device);
  }

  /** The devices subscribed to `userId`. */
  subscribersOf(userId: bigint): Device[] {
    return [...(this.byTarget.get(userId)?.values() ?? [])].map((device) => ({ ...device }));
  }

  /** The same, grouped as each gateway's stream needs it: gatewayId -> device ids. */
  subscribersByGateway(userId: bigint): Map<string, bigint[]> {
    const grouped = new Map<string, bigint[]>();
    for (const { gatewayId, deviceId } of this.byTarget.get(userId)?.values() ?? []) {
      const ids = grouped.get(gatewayId);
      if (ids) ids.push(deviceId);
      else grouped.set(gatewayId, [deviceId]);
    }
    return grouped;
  }

  /** The users `device` hears about. */
  subscriptionsOf(device: Device): bigint[] {
    return [...(this.byDevice.get(deviceKey(device))?.targets ?? [])];
  }

  private dropTarget(userId: bigint, key: string): void {
    const devices = this.byTarget.get(userId);
    devices?.delete(key);
    if (devices?.size === 0) this.byTarget.delete(userId);
  }
}

/** Unique per device: the ids are digits, so the first ":" and "@" split unambiguously. */
function deviceKey({ gatewayId, userId, deviceId }: Device): string {
  return `${userId}:${deviceId}@${gatewayId}`;
}
