import type { SqliteConnection } from "@parley/relational";
import type { SettingsRecord } from "../../domain/settings.js";

/**
 * User settings, as SQLite procedures. The muted conversation ids are a JSON
 * array of decimal strings (64-bit ids do not fit a JSON number). A user who
 * never saved settings has no row: the adapter fills in the defaults, which
 * live in a module this worker does not load.
 */

interface SettingsRow {
  push_enabled: bigint;
  email_enabled: bigint;
  sms_enabled: bigint;
  show_previews: bigint;
  muted_conversation_ids: string;
  hide_presence: bigint;
  email: string;
  phone: string;
  preview_length: bigint;
  mute_mentions: bigint;
}

/** The user's saved settings; undefined when they never saved any. */
export function getSettings(db: SqliteConnection, userId: bigint): SettingsRecord | undefined {
  const row = db.get<SettingsRow>(
    `SELECT push_enabled, email_enabled, sms_enabled, show_previews, muted_conversation_ids, hide_presence, email, phone, preview_length, mute_mentions
     FROM user_settings WHERE user_id = ?`,
    [userId],
  );
  if (row === undefined) return undefined;
  return {
    pushEnabled: row.push_enabled === 1n,
    emailEnabled: row.email_enabled === 1n,
    smsEnabled: row.sms_enabled === 1n,
    showPreviews: row.show_previews === 1n,
    mutedConversationIds: (JSON.parse(row.muted_conversation_ids) as string[]).map((id) => BigInt(id)),
    hidePresence: row.hide_presence === 1n,
    email: row.email,
    phone: row.phone,
    previewLength: Number(row.preview_length),
    muteMentions: row.mute_mentions === 1n,
  };
}

export function putSettings(db: SqliteConnection, userId: bigint, s: SettingsRecord): void {
  db.run(
    `INSERT INTO user_settings (user_id, push_enabled, email_enabled, sms_enabled, show_previews, muted_conversation_ids, hide_presence, email, phone, preview_length, mute_mentions)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
     ON CONFLICT (user_id) DO UPDATE SET push_enabled = ?2, email_enabled = ?3, sms_enabled = ?4, show_previews = ?5,
       muted_conversation_ids = ?6, hide_presence = ?7, email = ?8, phone = ?9, preview_length = ?10,
       mute_mentions = ?11`,
    [
      userId,
      bit(s.pushEnabled),
      bit(s.emailEnabled),
      bit(s.smsEnabled),
      bit(s.showPreviews),
      JSON.stringify(s.mutedConversationIds.map(String)),
      bit(s.hidePresence),
      s.email,
      s.phone,
      s.previewLength,
      bit(s.muteMentions),
    ],
  );
}

/** Those of `userIds` who hide their presence. */
export function hidingPresence(db: SqliteConnection, userIds: readonly bigint[]): bigint[] {
  const hiding: bigint[] = [];
  for (const id of new Set(userIds)) {
    if (db.get("SELECT 1 FROM user_settings WHERE user_id = ? AND hide_presence = 1", [id])) hiding.push(id);
  }
  return hiding;
}

const bit = (value: boolean): number => (value ? 1 : 0);
