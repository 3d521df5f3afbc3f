/**
 * Conversation procedures (run in the SQLite worker, each call one
 * transaction): direct conversations, groups and their changes.
 */
import type { SqliteConnection } from "@parley/relational";
import type { ConversationRecord, GroupChange, GroupSettings, MemberRole, StoredMessage } from "../../../ports.js";
import { KIND_CODES, ROLE_CODES, uniqueSorted } from "../sql-rows.js";
import { fingerprint, type Stored } from "./results.js";
import { InboxWriter } from "./inbox-writer.js";
import { insertMembers, loadConversation, memberIds, storeMessage } from "./steps.js";

/**
 * The pair's direct conversation, created when absent. Calls run one at a
 * time, so concurrent openers of a pair find the first one's row.
 */
export function openDirect(db: SqliteConnection, userA: bigint, userB: bigint, newId: bigint): ConversationRecord {
  const [low, high] = userA < userB ? [userA, userB] : [userB, userA];
  const pair = db.get<{ conversation_id: bigint }>("SELECT conversation_id FROM direct_pairs WHERE user_low = ? AND user_high = ?", [low, high]);
  if (pair !== undefined) return mustLoad(db, pair.conversation_id);
  const now = Date.now();
  db.run("INSERT INTO conversations (id, kind, created_at, last_activity_id) VALUES (?, ?, ?, ?)", [newId, KIND_CODES.direct, now, newId]);
  insertMembers(
    db,
    newId,
    [
      { userId: low, role: "member" },
      { userId: high, role: "member" },
    ],
    0n,
    now,
  );
  db.run("INSERT INTO direct_pairs (user_low, user_high, conversation_id) VALUES (?, ?, ?)", [low, high, newId]);
  return mustLoad(db, newId);
}

export function getConversation(db: SqliteConnection, id: bigint): ConversationRecord | undefined {
  return loadConversation(db, id);
}

/** The group with its members (history from 0) and its system message in every member's inbox. */
export function createGroup(
  db: SqliteConnection,
  input: { id: bigint; name: string; settings: GroupSettings; members: { userId: bigint; role: MemberRole }[]; systemMessage: StoredMessage },
): { conversation: ConversationRecord; stored: Stored } {
  const now = Date.now();
  // biome-ignore lint/complexity/useMathMinMax: these ids are bigints, which Math.max does not take
  const activity = input.systemMessage.messageId > input.id ? input.systemMessage.messageId : input.id;
  db.run("INSERT INTO conversations (id, kind, name, created_at, history_visible, last_activity_id) VALUES (?, ?, ?, ?, ?, ?)", [
    input.id,
    KIND_CODES.group,
    input.name,
    now,
    input.settings.historyVisibleToNewMembers ? 1 : 0,
    activity,
  ]);
  insertMembers(db, input.id, input.members, 0n, now);
  const inbox = new InboxWriter(db);
  const stored = storeMessage(db, inbox, input.systemMessage, memberIds(db, input.id));
  return { conversation: mustLoad(db, input.id), stored };
}

export type GroupUpdate = { conversation: ConversationRecord; stored: Stored } | "missing" | "changed";

/**
 * Applies a change that the adapter's decide() made against the group as
 * it read it (`seen`, a fingerprint of that record): refused with "changed"
 * when the group no longer reads the same, so the adapter decides again.
 * The system message goes to everyone who was a member before or after.
 */
export function applyGroupChange(db: SqliteConnection, conversationId: bigint, seen: string, change: GroupChange): GroupUpdate {
  const current = loadConversation(db, conversationId);
  if (current === undefined) return "missing";
  if (fingerprint(current) !== seen) return "changed";
  const before = current.members.map((m) => m.userId);
  if (change.delete === true) {
    db.run("UPDATE conversations SET deleted = 1 WHERE id = ?", [conversationId]);
    db.run("DELETE FROM conversation_members WHERE conversation_id = ?", [conversationId]);
  } else {
    updateMembership(db, current, change);
  }
  const inbox = new InboxWriter(db);
  const stored = storeMessage(db, inbox, change.systemMessage, uniqueSorted([...before, ...memberIds(db, conversationId)]));
  return { conversation: mustLoad(db, conversationId), stored };
}

/** Removals, then additions (history per the settings after the change), then roles, name and settings. */
function updateMembership(db: SqliteConnection, current: ConversationRecord, change: GroupChange): void {
  const historyVisible = (change.settings ?? current.settings)?.historyVisibleToNewMembers ?? false;
  db.run("UPDATE conversations SET name = ?, history_visible = ? WHERE id = ?", [change.name ?? current.name, historyVisible ? 1 : 0, current.id]);
  for (const userId of change.remove ?? []) {
    db.run("DELETE FROM conversation_members WHERE conversation_id = ? AND user_id = ?", [current.id, userId]);
  }
  insertMembers(db, current.id, change.add ?? [], historyVisible ? 0n : change.systemMessage.messageId, Date.now());
  for (const { userId, role } of change.roles ?? []) {
    db.run("UPDATE conversation_members SET role = ? WHERE conversation_id = ? AND user_id = ?", [ROLE_CODES[role], current.id, userId]);
  }
}

function mustLoad(db: SqliteConnection, id: bigint): ConversationRecord {
  const conversation = loadConversation(db, id);
  if (conversation === undefined) throw new Error(`conversation ${id} vanished`);
  return conversation;
}
