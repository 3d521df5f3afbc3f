import type { Target } from "./providers/port.js";

export type * from "./store/ports.js";
export type { Channel, Content, Outcome, Provider, Target } from "./providers/port.js";

/** What notify needs to know about a user to reach them. */
export interface UserTargets {
  displayName: string;
  pushEnabled: boolean;
  emailEnabled: boolean;
  smsEnabled: boolean;
  showPreviews: boolean;
  /** Characters of a message a preview shows; 0 means the default. */
  previewLength: number;
  mutedConversationIds: ReadonlySet<bigint>;
  /** "" when none. */
  email: string;
  /** "" when none. */
  phone: string;
  /** Logged-in devices with a push token. */
  devices: readonly { deviceId: bigint; target: Extract<Target, { channel: "fcm" | "apns" | "webpush" }> }[];
}

/**
 * Users' devices, contact points and settings (the account service in the
 * mesh). May answer from a cache: a change reaches it within the cache's
 * lifetime, usually at once.
 */
export interface TargetDirectory {
  /** Throws NotFound for an unknown user. */
  targets(userId: bigint): Promise<UserTargets>;
  /** Removes a token a provider called invalid, if it is still the device's current one. */
  removePushToken(deviceId: bigint, token: string): Promise<void>;
}
