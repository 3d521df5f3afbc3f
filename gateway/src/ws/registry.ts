/** A connected device as the registry sees it. */
export interface DeviceSocket {
  readonly userId: bigint;
  readonly deviceId: bigint;
  /** Writes an encoded server frame; false when the socket is gone or over its buffer limit. */
  write(frame: import("@parley/contracts/parley/client/v1/client").ServerFrame): boolean;
  close(code: number, reason: string): void;
}

/** The devices this gateway holds, by user, for delivery and for log-out. */
export class DeviceRegistry {
  private readonly byUser = new Map<bigint, Set<DeviceSocket>>();

  add(socket: DeviceSocket): void {
    let set = this.byUser.get(socket.userId);
    if (!set) this.byUser.set(socket.userId, (set = new Set()));
    set.add(socket);
  }

  remove(socket: DeviceSocket): void {
    const set = this.byUser.get(socket.userId);
    if (!set) return;
    set.delete(socket);
    if (set.size === 0) this.byUser.delete(socket.userId);
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
