import type { JobStore, NewNotification } from "../src/ports.js";

/** What the JobStore contract suites share: the fixture each adapter provides, and sample notifications. */

export interface JobStoreFixture {
  store: JobStore;
  /** True when concurrent calls really run in parallel (separate sessions), not one after another. */
  concurrent: boolean;
  /** Empties the store, so each test starts from nothing without reopening the database. */
  reset(): Promise<void>;
  cleanup(): Promise<void>;
}

export const T0 = new Date("2026-01-01T00:00:00.000Z");
export const at = (ms: number) => new Date(T0.getTime() + ms);
export const LEASE = 30_000;

export const USER = 9_007_199_254_740_993n;

export function notification(
  eventId: string,
  deliveries: NewNotification["deliveries"] = [{ channel: "fcm", target: { channel: "fcm", token: "tok-1" }, deviceId: 7n }],
  more: Partial<NewNotification> = {},
): NewNotification {
  return {
    eventId,
    userId: USER,
    kind: "new_message",
    params: { conversation_id: "42", sender_name: "Ada" },
    collapseKey: "",
    badge: 3,
    fingerprint: `fp-${eventId}`,
    content: { title: "Ada", body: "hello", data: { conversation_id: "42" } },
    deliveries,
    ...more,
  };
}

export const push = (deviceId: bigint) => ({ channel: "fcm", target: { channel: "fcm", token: `tok-${deviceId}` }, deviceId }) as const;

export const email = { channel: "email", target: { channel: "email", address: "a@example.test" } } as const;
export const sms = { channel: "sms", target: { channel: "sms", phone: "+15550100" } } as const;
