/** A connected device as the registry sees it. */
export interface DeviceSocket {
  readonly userId: bigint;
  readonly deviceId: bigint;
  /** The session whose access token opened the socket (account's internal id). */
  readonly sessionId: bigint;
  /** Writes an encoded server frame; false when the socket is gone or over its buffer limit. */
  write(frame: import("@parley/contracts/parley/client/v1/client").ServerFrame): boolean;
  close(code: number, reason: string): void;
}

/** The devices this gateway holds, by user, for delivery and for log-out. */
export class DeviceRegistry {
  private readonly byUser = new Map<bigint, Set<DeviceSocket>>();
  private readonly byDevice = new Map<bigint, Set<DeviceSocket>>();

  add(socket: DeviceSocket): void {
    addTo(this.byUser, socket.userId, socket);
    addTo(this.byDevice, socket.deviceId, socket);
  }

  remove(socket: DeviceSocket): void {
    removeFrom(this.byUser, socket.userId, socket);
    removeFrom(this.byDevice, socket.deviceId, socket);
  }

  /** The sockets of one device (usually one; two while a reconnect overlaps the old socket). */
  socketsOf(deviceId: bigint): Iterable<DeviceSocket> {
    return this.byDevice.get(deviceId) ?? [];
  }

  /** Every (user, device) held, once each: the hello presence gets after a reconnect. */
  sessions(): { userId: bigint; deviceId: bigint }[] {
    return [...this.byDevice.values()].flatMap((set) => {
      const first = set.values().next().value;
      return first ? [{ userId: first.userId, deviceId: first.deviceId }] : [];
    });
  }

  /** Sockets open for one device, and for one user over all their devices. */
  countForDevice(deviceId: bigint): number {
    return this.byDevice.get(deviceId)?.size ?? 0;
  }

  countForUser(userId: bigint): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  devicesOf(userId: bigint): Iterable<DeviceSocket> {
    return this.byUser.get(userId) ?? [];
  }

  all(): DeviceSocket[] {
    return [...this.byUser.values()].flatMap((set) => [...set]);
  }

  get size(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }
}

function addTo(map: Map<bigint, Set<DeviceSocket>>, key: bigint, socket: DeviceSocket): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(socket);
}

function removeFrom(map: Map<bigint, Set<DeviceSocket>>, key: bigint, socket: DeviceSocket): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(socket);
  if (set.size === 0) map.delete(key);
}
