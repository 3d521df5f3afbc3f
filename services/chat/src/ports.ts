import type { InboxEntry } from "./store/ports.js";

export type * from "./store/ports.js";

/** Snowflake ids for messages and conversations; strictly increasing per source. */
export interface IdSource {
  next(): Promise<bigint>;
}

/** Whether users exist (the account service in the mesh). */
export interface UserDirectory {
  /** The subset of `ids` that are existing users. */
  existing(ids: readonly bigint[]): Promise<Set<bigint>>;
}

/** A connected device and the gateway holding it. */
export interface DeviceLocation {
  deviceId: bigint;
  gatewayId: string;
}

/** Where users' devices are connected (the presence service in the mesh). */
export interface DeviceLocator {
  /** Connected devices per user; users with none are absent. */
  locate(userIds: readonly bigint[]): Promise<Map<bigint, DeviceLocation[]>>;
}

/** What travels on the delivery bus: an inbox entry for its user, or an ephemeral event. */
export type DeliveryEvent =
  | { kind: "entry"; entry: InboxEntry; exceptDeviceId?: bigint }
  | { kind: "typing"; userId: bigint; conversationId: bigint; typerId: bigint; typing: boolean };

/**
 * The delivery bus. Guarantees: events with the same key (the recipient user
 * id) are handed to the consumer one at a time in publish order; at most once
 * in the embedded adapter (an event in flight is lost if the process dies,
 * which is safe because every entry is in the store and devices sync from
 * their cursor), at least once in the Kafka adapter.
 */
export interface DeliveryBus {
  publish(key: bigint, event: DeliveryEvent): void;
  /** Starts consuming; one consumer per bus. */
  consume(handler: (event: DeliveryEvent) => Promise<void>): void;
  close(): Promise<void>;
}
