import type { InboxEntry, StoredMessage } from "./store/ports.js";

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

/** Users' display names (the account service in the mesh). */
export interface DisplayNames {
  /** The name shown for the user, possibly a little stale (cached); undefined for an unknown user. */
  displayName(userId: bigint): Promise<string | undefined>;
}

/** A connected device and the gateway holding it. */
export interface DeviceLocation {
  deviceId: bigint;
  gatewayId: string;
}

/** Where users' devices are connected (the presence service in the mesh). */
export interface DeviceLocator {
  /**
   * Connected devices per user; users with none are absent. Any number of
   * users. Rejects with DependencyUnavailable when presence cannot answer
   * now (the caller falls back rather than wait).
   */
  locate(userIds: readonly bigint[]): Promise<Map<bigint, DeviceLocation[]>>;
  /** Stops: lookups from then on fail; resolves once the connection to presence has ended. */
  close(): Promise<void>;
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

/** Another user's message for a recipient none of whose devices is connected. */
export interface NewMessagePush {
  recipientId: bigint;
  message: StoredMessage;
}

/**
 * Hands notifications for recipients with no connected device to notify,
 * which pushes them. What it promises:
 *
 * - newMessage never throws and never blocks: it queues the hand-off and
 *   returns. Hand-offs are not ordered among themselves.
 * - The queue is bounded: when it is full the hand-off is dropped with a
 *   warning (rate-limited) and counted. Only the push is lost; the message
 *   waits in the inbox for the next sync either way.
 * - Transient failures (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL,
 *   RESOURCE_EXHAUSTED, UNKNOWN) are retried with exponential backoff and
 *   jitter, a bounded number of times; other failures are not retried and are
 *   logged as a warning. Retries never notify twice: the event id comes from
 *   (message id, recipient) and notify is idempotent on it.
 * - Not durable: hand-offs live in this process's memory. close() stops
 *   it, and queued or in-flight hand-offs (their retries too) are abandoned,
 *   so a shutdown never waits on notify.
 */
export interface PushNotifier {
  newMessage(push: NewMessagePush): void;
  close(): Promise<void>;
}
