import type { UserPresence } from "@parley/contracts/parley/presence/v1/presence";

/** What a device's connection needs from presence (the presence link in the mesh). */
export interface PresencePort {
  heartbeat(userId: bigint, deviceId: bigint): void;
  getPresence(viewerId: bigint, userIds: bigint[]): Promise<UserPresence[]>;
}
