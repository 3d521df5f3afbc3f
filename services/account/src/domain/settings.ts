import { InvalidInput } from "../errors.js";

/** A user's notification and privacy settings. */
export interface SettingsRecord {
  pushEnabled: boolean;
  emailEnabled: boolean;
  smsEnabled: boolean;
  showPreviews: boolean;
  mutedConversationIds: bigint[];
  hidePresence: boolean;
  email: string;
  phone: string;
  /** Characters of a message a push preview shows, 0 to 500; 0 leaves the length to notify's default (100). */
  previewLength: number;
  /** Mentions stay quiet in muted conversations too; off by default, so a mention gets through a mute. */
  muteMentions: boolean;
}

/** What a user who never changed anything has: push with previews of the default length on, email and SMS off, presence shown. */
export const DEFAULT_SETTINGS: Readonly<SettingsRecord> = Object.freeze({
  pushEnabled: true,
  emailEnabled: false,
  smsEnabled: false,
  showPreviews: true,
  mutedConversationIds: [],
  hidePresence: false,
  email: "",
  phone: "",
  previewLength: 0,
  muteMentions: false,
});

/** The contract's snake_case field names, as UpdateSettings names them. */
const FIELDS: Record<string, keyof SettingsRecord> = {
  push_enabled: "pushEnabled",
  email_enabled: "emailEnabled",
  sms_enabled: "smsEnabled",
  show_previews: "showPreviews",
  muted_conversation_ids: "mutedConversationIds",
  hide_presence: "hidePresence",
  email: "email",
  phone: "phone",
  preview_length: "previewLength",
  mute_mentions: "muteMentions",
};

const MUTED_MAX = 1_000;
// The contract's bound; even 500 four-byte characters fit the smallest push payload (APNs, 4 KiB).
const PREVIEW_LENGTH_MAX = 500;
// Deliberately loose: one @, no spaces, a dot in the domain. Real verification is a sent email.
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/** Applies the named fields of `values` to `current`, checking each; unknown names are refused. */
export function applySettings(current: SettingsRecord, values: SettingsRecord, fieldNames: readonly string[]): SettingsRecord {
  if (fieldNames.length === 0) throw new InvalidInput("fields", `must name the settings to change (${Object.keys(FIELDS).join(", ")})`);
  const next: SettingsRecord = { ...current, mutedConversationIds: [...current.mutedConversationIds] };
  for (const name of fieldNames) {
    const key = FIELDS[name];
    if (key === undefined) throw new InvalidInput("fields", `names an unknown setting "${name}"`);
    (next as unknown as Record<string, unknown>)[key] = values[key];
  }
  if (next.email !== "" && (next.email.length > 254 || !EMAIL.test(next.email))) throw new InvalidInput("email", "is not an email address");
  if (next.phone !== "" && !E164.test(next.phone)) throw new InvalidInput("phone", "must be in E.164 form, such as +14155550123");
  if (!Number.isInteger(next.previewLength) || next.previewLength < 0 || next.previewLength > PREVIEW_LENGTH_MAX) {
    throw new InvalidInput("preview_length", `must be a whole number from 0 to ${PREVIEW_LENGTH_MAX} (0 means the default, 100)`);
  }
  if (next.mutedConversationIds.length > MUTED_MAX) throw new InvalidInput("muted_conversation_ids", `must list at most ${MUTED_MAX} conversations`);
  next.mutedConversationIds = [...new Set(next.mutedConversationIds)];
  if (next.emailEnabled && next.email === "") throw new InvalidInput("email_enabled", "needs an email address");
  if (next.smsEnabled && next.phone === "") throw new InvalidInput("sms_enabled", "needs a phone number");
  return next;
}
