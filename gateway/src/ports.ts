import type { UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import type { Command, Reply } from "@parley/contracts/parley/chat/v1/chat";

/** What a device's connection needs from presence (the presence link in the mesh). */
export interface PresencePort {
  heartbeat(userId: bigint, deviceId: bigint): void;
  getPresence(viewerId: bigint, userIds: bigint[]): Promise<UserPresence[]>;
}

/** What a device's connection needs from chat: one command, answered by its reply (the chat links in the mesh). */
export interface ChatCommands {
  /** `traceparent`: the request's span, when tracing is on; chat's work joins its trace. */
  call(userId: bigint, deviceId: bigint, op: Command["op"], traceparent?: string): Promise<Reply["result"]>;
}
