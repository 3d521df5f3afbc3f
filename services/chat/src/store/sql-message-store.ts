import type { Db } from "@parley/relational";
import {
  ConversationMissingError,
  NotAMemberError,
  type ConversationKind,
  type ConversationRecord,
  type ConversationSummary,
  type GroupChange,
  type GroupSettings,
  type InboxEntry,
  type InboxItem,
  type MemberRecord,
  type MemberRole,
  type MessageStore,
  type Receipt,
  type SendOutcome,
  type StoredMessage,
} from "./ports.js";

const KIND_CODES: Record<ConversationKind, number> = { direct: 1, group: 2 };
const KINDS: Record<number, ConversationKind> = { 1: "direct", 2: "group" };
const ROLE_CODES: Record<MemberRole, number> = { member: 1, admin: 2, owner: 3 };
const ROLES: Record<number, MemberRole> = { 1: "member", 2: "admin", 3: "owner" };
const ENTRY_MESSAGE = 1;
const ENTRY_READ = 2;
/** Stands in for "no upper bound" so that range conditions stay plain index ranges. */
const MAX_ID = "9223372036854775807";

interface MessageRow {
  conversation_id: string;
  message_id: string;
  sender_id: string;
  sender_device_id: string;
  client_msg_id: string;
  text: string;
  system: Uint8Array | null;
  created_at: Date;
}

interface ConversationRow {
  id: string;
  kind: number;
  name: string;
  created_at: Date;
  history_visible: boolean;
  deleted: boolean;
}

interface MemberRow {
  conversation_id: string;
  user_id: string;
  role: number;
  joined_at: Date;
  read_message_id: string;
  history_from_message_id: string;
}

type InboxRow = { seq: string; kind: number; entry_conversation_id: string; entry_message_id: string; reader_id: string | null; read_at: Date | null } & {
  [K in keyof MessageRow]: MessageRow[K] | null;
};

type SummaryRow = { conversation_created_at: Date; last_activity_id: string; read_message_id: string; unread: string } & Omit<ConversationRow, "created_at"> & {
  [K in keyof MessageRow]: MessageRow[K] | null;
};

const CONVERSATION_COLUMNS = "id, kind, name, created_at, history_visible, deleted";
const MESSAGE_COLUMNS = "m.conversation_id, m.message_id, m.sender_id, m.sender_device_id, m.client_msg_id, m.text, m.system, m.created_at";

/**
 * The message store on SQL: runs unchanged on PGlite (embedded) and Postgres.
 *
 * Locks are always taken in one order, so concurrent writers cannot
 * deadlock: the (sender, client_msg_id) claim, then the conversation row,
 * then member rows, then inbox heads in ascending user id. Membership
 * changes and member-addressed sends hold the conversation row until they
 * commit, so they take turns per conversation. Seqs come from a
 * per-user head row incremented inside the writing transaction: the row lock
 * makes writers of one user take turns, and a rollback undoes the increment,
 * so seqs stay gap-free.
 */
export class SqlMessageStore implements MessageStore {
  constructor(private readonly db: Db) {}

  async openDirect(userA: bigint, userB: bigint, newId: bigint): Promise<ConversationRecord> {
    const [low, high] = userA < userB ? [userA, userB] : [userB, userA];
    const id = await this.db.transaction(async (tx) => {
      // The pair row is the claim: a concurrent opener waits here for the winner's commit, then finds its row.
      const claimed = await tx.query<{ conversation_id: string }>(
        `INSERT INTO direct_pairs (user_low, user_high, conversation_id) VALUES ($1, $2, $3)
         ON CONFLICT (user_low, user_high) DO NOTHING RETURNING conversation_id`,
        [String(low), String(high), String(newId)],
      );
      if (claimed.rows.length === 0) {
        const existing = await tx.query<{ conversation_id: string }>(
          "SELECT conversation_id FROM direct_pairs WHERE user_low = $1 AND user_high = $2",
          [String(low), String(high)],
        );
        return BigInt(existing.rows[0]!.conversation_id);
      }
      await tx.query("INSERT INTO conversations (id, kind, last_activity_id) VALUES ($1, $2, $1)", [String(newId), KIND_CODES.direct]);
      await tx.query(
        "INSERT INTO conversation_members (conversation_id, user_id, role) SELECT $1, u, $3 FROM unnest($2::bigint[]) AS u",
        [String(newId), [String(low), String(high)], ROLE_CODES.member],
      );
      return newId;
    });
    const conversation = await this.getConversation(id);
    if (conversation === undefined) throw new Error(`direct conversation ${id} vanished`);
    return conversation;
  }

  async getConversation(id: bigint): Promise<ConversationRecord | undefined> {
    return loadConversation(this.db, id, false);
  }

  async createGroup(input: {
    id: bigint;
    name: string;
    settings: GroupSettings;
    members: { userId: bigint; role: MemberRole }[];
    systemMessage: StoredMessage;
  }): Promise<{ conversation: ConversationRecord; outcome: SendOutcome }> {
    checkSystemMessage(input.id, input.systemMessage);
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO conversations (id, kind, name, history_visible, last_activity_id) VALUES ($1, $2, $3, $4, GREATEST($1::bigint, $5::bigint))`,
        [String(input.id), KIND_CODES.group, input.name, input.settings.historyVisibleToNewMembers, String(input.systemMessage.messageId)],
      );
      await insertMembers(tx, input.id, input.members, 0n);
      const outcome = await storeMessage(tx, input.systemMessage, await memberIds(tx, input.id));
      return { conversation: (await loadConversation(tx, input.id, false))!, outcome };
    });
  }

  async updateGroup(
    conversationId: bigint,
    decide: (current: ConversationRecord) => GroupChange,
  ): Promise<{ conversation: ConversationRecord; outcome: SendOutcome }> {
    return this.db.transaction(async (tx) => {
      // The row lock makes concurrent changes and member-addressed sends take turns: decide() sees what it changes.
      const current = await loadConversation(tx, conversationId, true);
      if (current === undefined) throw new ConversationMissingError(`conversation ${conversationId} does not exist`);
      const change = decide(current);
      checkSystemMessage(conversationId, change.systemMessage);
      await applyGroupChange(tx, current, change);
      await touchConversation(tx, change.systemMessage);
      const before = current.members.map((m) => m.userId);
      const outcome = await storeMessage(tx, change.systemMessage, [...before, ...(await memberIds(tx, conversationId))]);
      return { conversation: (await loadConversation(tx, conversationId, false))!, outcome };
    });
  }

  async append(message: StoredMessage, recipients?: readonly bigint[]): Promise<SendOutcome> {
    return this.db.transaction(async (tx) => {
      if (message.clientMsgId !== "") {
        const original = await claimClientMsgId(tx, message);
        if (original !== undefined) return original;
      }
      // Takes the conversation row lock first, so the members read below are the ones at commit.
      await touchConversation(tx, message);
      if (recipients !== undefined) return storeMessage(tx, message, recipients);
      const members = await memberIds(tx, message.conversationId);
      if (message.senderId !== 0n && !members.includes(message.senderId)) {
        throw new NotAMemberError(`user ${message.senderId} is not a member of conversation ${message.conversationId}`);
      }
      return storeMessage(tx, message, members);
    });
  }

  async history(
    conversationId: bigint,
    beforeMessageId: bigint | undefined,
    limit: number,
    notBeforeMessageId?: bigint,
  ): Promise<StoredMessage[]> {
    const { rows } = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m
       WHERE m.conversation_id = $1 AND m.message_id < $2 AND m.message_id >= $3
       ORDER BY m.message_id DESC LIMIT $4`,
      [String(conversationId), beforeMessageId === undefined ? MAX_ID : String(beforeMessageId), String(notBeforeMessageId ?? 0n), limit],
    );
    return rows.map(toMessage);
  }

  async inbox(userId: bigint, afterSeq: bigint, limit: number): Promise<InboxEntry[]> {
    const { rows } = await this.db.query<InboxRow>(
      `SELECT i.seq, i.kind, i.conversation_id AS entry_conversation_id, i.message_id AS entry_message_id, i.reader_id, i.read_at,
         ${MESSAGE_COLUMNS}
       FROM inbox i
       LEFT JOIN messages m ON i.kind = ${ENTRY_MESSAGE} AND m.conversation_id = i.conversation_id AND m.message_id = i.message_id
       WHERE i.user_id = $1 AND i.seq > $2
       ORDER BY i.seq LIMIT $3`,
      [String(userId), String(afterSeq), limit],
    );
    return rows.map((row) => toInboxEntry(userId, row));
  }

  async headSeq(userId: bigint): Promise<bigint> {
    const { rows } = await this.db.query<{ head_seq: string }>("SELECT head_seq FROM inbox_heads WHERE user_id = $1", [String(userId)]);
    return BigInt(rows[0]?.head_seq ?? 0);
  }

  async setCursor(userId: bigint, deviceId: bigint, seq: bigint): Promise<bigint> {
    const { rows } = await this.db.query<{ seq: string }>(
      `INSERT INTO device_cursors AS d (user_id, device_id, seq) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, device_id) DO UPDATE SET seq = GREATEST(d.seq, EXCLUDED.seq) RETURNING seq`,
      [String(userId), String(deviceId), String(seq)],
    );
    return BigInt(rows[0]!.seq);
  }

  async getCursor(userId: bigint, deviceId: bigint): Promise<bigint> {
    const { rows } = await this.db.query<{ seq: string }>("SELECT seq FROM device_cursors WHERE user_id = $1 AND device_id = $2", [
      String(userId),
      String(deviceId),
    ]);
    return BigInt(rows[0]?.seq ?? 0);
  }

  async markRead(
    conversationId: bigint,
    userId: bigint,
    messageId: bigint,
    at: Date,
    recipients: readonly bigint[],
  ): Promise<{ advanced: boolean; entries: InboxEntry[] }> {
    const users = uniqueSorted(recipients);
    return this.db.transaction(async (tx) => {
      // A concurrent lower mark waits on the row lock, then re-checks the condition against the newer marker.
      const moved = await tx.query(
        `UPDATE conversation_members SET read_message_id = $3
         WHERE conversation_id = $1 AND user_id = $2 AND read_message_id < $3`,
        [String(conversationId), String(userId), String(messageId)],
      );
      if (moved.rowCount === 0) return { advanced: false, entries: [] };
      const seqs = await appendEntries(tx, users, ENTRY_READ, conversationId, messageId, userId, at);
      const item: InboxItem = { kind: "read", read: { conversationId, userId, messageId, readAt: at } };
      return { advanced: true, entries: toEntries(seqs, item) };
    });
  }

  async receipts(conversationId: bigint, messageId: bigint): Promise<Receipt[]> {
    // Each member's entry is found by scanning their inbox (no index by message): fine for the inbox sizes we keep.
    const { rows } = await this.db.query<{ user_id: string; delivered: boolean; read: boolean }>(
      `SELECT cm.user_id, cm.read_message_id >= $2 AS read,
         EXISTS (SELECT 1 FROM inbox i JOIN device_cursors d ON d.user_id = i.user_id AND d.seq >= i.seq
                 WHERE i.user_id = cm.user_id AND i.kind = ${ENTRY_MESSAGE} AND i.conversation_id = $1 AND i.message_id = $2) AS delivered
       FROM conversation_members cm WHERE cm.conversation_id = $1 ORDER BY cm.user_id`,
      [String(conversationId), String(messageId)],
    );
    return rows.map((row) => ({ userId: BigInt(row.user_id), delivered: row.delivered, read: row.read }));
  }

  async unreadCount(conversationId: bigint, userId: bigint): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM conversation_members cm
       JOIN messages u ON u.conversation_id = cm.conversation_id
       WHERE cm.conversation_id = $1 AND cm.user_id = $2 AND ${unread("cm.read_message_id", "$2")}`,
      [String(conversationId), String(userId)],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async listConversations(userId: bigint, limit: number, beforeActivityId?: bigint): Promise<ConversationSummary[]> {
    // The page is cut first, so the last message and unread count are computed for its rows only.
    const { rows } = await this.db.query<SummaryRow>(
      `WITH page AS (
         SELECT c.id, c.kind, c.name, c.created_at, c.history_visible, c.deleted, c.last_activity_id, cm.read_message_id
         FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id
         WHERE cm.user_id = $1 AND c.last_activity_id < $2 AND NOT c.deleted
         ORDER BY c.last_activity_id DESC LIMIT $3)
       SELECT p.id, p.kind, p.name, p.created_at AS conversation_created_at, p.history_visible, p.deleted, p.last_activity_id, p.read_message_id,
         (SELECT count(*) FROM messages u WHERE u.conversation_id = p.id AND ${unread("p.read_message_id", "$1")}) AS unread,
         ${MESSAGE_COLUMNS}
       FROM page p
       LEFT JOIN LATERAL (SELECT * FROM messages l WHERE l.conversation_id = p.id ORDER BY l.message_id DESC LIMIT 1) m ON true
       ORDER BY p.last_activity_id DESC`,
      [String(userId), beforeActivityId === undefined ? MAX_ID : String(beforeActivityId), limit],
    );
    const members = await loadMembers(this.db, rows.map((row) => row.id));
    return rows.map((row) => ({
      conversation: toConversation({ ...row, created_at: row.conversation_created_at }, members.get(row.id) ?? []),
      ...(row.message_id === null ? {} : { lastMessage: toMessage(row as MessageRow) }),
      unreadCount: Number(row.unread),
      lastReadMessageId: BigInt(row.read_message_id),
      lastActivityId: BigInt(row.last_activity_id),
    }));
  }
}

/** The conversation with its members; `lock` takes its row lock for the rest of the transaction. */
async function loadConversation(db: Db, id: bigint, lock: boolean): Promise<ConversationRecord | undefined> {
  const { rows } = await db.query<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1${lock ? " FOR UPDATE" : ""}`,
    [String(id)],
  );
  if (rows[0] === undefined) return undefined;
  const members = await loadMembers(db, [rows[0].id]);
  return toConversation(rows[0], members.get(rows[0].id) ?? []);
}

/** Members of each conversation, by conversation id (as text), ordered by user id. */
async function loadMembers(db: Db, conversationIds: readonly string[]): Promise<Map<string, MemberRecord[]>> {
  const byConversation = new Map<string, MemberRecord[]>();
  if (conversationIds.length === 0) return byConversation;
  const { rows } = await db.query<MemberRow>(
    `SELECT conversation_id, user_id, role, joined_at, read_message_id, history_from_message_id FROM conversation_members
     WHERE conversation_id = ANY($1::bigint[]) ORDER BY conversation_id, user_id`,
    [conversationIds],
  );
  for (const row of rows) {
    const member: MemberRecord = {
      userId: BigInt(row.user_id),
      role: toRole(row),
      joinedAt: row.joined_at,
      readMessageId: BigInt(row.read_message_id),
      historyFromMessageId: BigInt(row.history_from_message_id),
    };
    const list = byConversation.get(row.conversation_id);
    if (list === undefined) byConversation.set(row.conversation_id, [member]);
    else list.push(member);
  }
  return byConversation;
}

async function memberIds(tx: Db, conversationId: bigint): Promise<bigint[]> {
  const { rows } = await tx.query<{ user_id: string }>("SELECT user_id FROM conversation_members WHERE conversation_id = $1", [
    String(conversationId),
  ]);
  return rows.map((row) => BigInt(row.user_id));
}

/** Moves the conversation's activity to the message, taking its row lock; throws when the conversation does not exist. */
async function touchConversation(tx: Db, message: StoredMessage): Promise<void> {
  const touched = await tx.query("UPDATE conversations SET last_activity_id = GREATEST(last_activity_id, $2) WHERE id = $1", [
    String(message.conversationId),
    String(message.messageId),
  ]);
  if (touched.rowCount === 0) throw new Error(`conversation ${message.conversationId} does not exist`);
}

/**
 * Stores the message and gives each recipient (duplicates count once) an
 * entry; records the sender's seq on their de-duplication claim.
 */
async function storeMessage(tx: Db, message: StoredMessage, recipients: readonly bigint[]): Promise<SendOutcome> {
  const stored = copyMessage(message);
  const seqs = await appendEntries(tx, uniqueSorted(recipients), ENTRY_MESSAGE, message.conversationId, message.messageId);
  await tx.query(
    `INSERT INTO messages (conversation_id, message_id, sender_id, sender_device_id, client_msg_id, text, system, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      String(message.conversationId),
      String(message.messageId),
      String(message.senderId),
      String(message.senderDeviceId),
      message.clientMsgId,
      message.text,
      message.system === undefined ? null : Buffer.from(message.system),
      message.createdAt,
    ],
  );
  const senderSeq = seqs.get(message.senderId) ?? 0n;
  if (message.clientMsgId !== "" && senderSeq !== 0n) {
    await tx.query("UPDATE sent_messages SET sender_seq = $3 WHERE sender_id = $1 AND client_msg_id = $2", [
      String(message.senderId),
      message.clientMsgId,
      String(senderSeq),
    ]);
  }
  const item: InboxItem = { kind: "message", message: stored };
  return { message: stored, senderSeq, duplicate: false, entries: toEntries(seqs, item) };
}

function checkSystemMessage(conversationId: bigint, message: StoredMessage): void {
  if (message.conversationId !== conversationId || message.senderId !== 0n || message.clientMsgId !== "") {
    throw new Error(`a group's system message must be in conversation ${conversationId}, from sender 0, with no client id`);
  }
}

/** Members join with their history horizon; users already in the group are left as they are. */
async function insertMembers(
  tx: Db,
  conversationId: bigint,
  members: readonly { userId: bigint; role: MemberRole }[],
  historyFrom: bigint,
): Promise<void> {
  if (members.length === 0) return;
  await tx.query(
    `INSERT INTO conversation_members (conversation_id, user_id, role, history_from_message_id)
     SELECT $1, a.u, a.r, $4 FROM unnest($2::bigint[], $3::smallint[]) AS a(u, r)
     ON CONFLICT (conversation_id, user_id) DO NOTHING`,
    [String(conversationId), members.map((m) => String(m.userId)), members.map((m) => ROLE_CODES[m.role]), String(historyFrom)],
  );
}

/** Applies a decided change to the locked group: removals, then additions, then roles, name and settings. */
async function applyGroupChange(tx: Db, current: ConversationRecord, change: GroupChange): Promise<void> {
  const id = String(current.id);
  if (change.delete === true) {
    await tx.query("UPDATE conversations SET deleted = true WHERE id = $1", [id]);
    await tx.query("DELETE FROM conversation_members WHERE conversation_id = $1", [id]);
    return;
  }
  const historyVisible = (change.settings ?? current.settings)?.historyVisibleToNewMembers ?? false;
  await tx.query("UPDATE conversations SET name = $2, history_visible = $3 WHERE id = $1", [id, change.name ?? current.name, historyVisible]);
  if (change.remove !== undefined && change.remove.length > 0) {
    await tx.query("DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = ANY($2::bigint[])", [
      id,
      change.remove.map(String),
    ]);
  }
  await insertMembers(tx, current.id, change.add ?? [], historyVisible ? 0n : change.systemMessage.messageId);
  if (change.roles !== undefined && change.roles.length > 0) {
    await tx.query(
      `UPDATE conversation_members cm SET role = r.role FROM unnest($2::bigint[], $3::smallint[]) AS r(user_id, role)
       WHERE cm.conversation_id = $1 AND cm.user_id = r.user_id`,
      [id, change.roles.map((r) => String(r.userId)), change.roles.map((r) => ROLE_CODES[r.role])],
    );
  }
}

/**
 * Claims (sender, client_msg_id) for this transaction. A concurrent claimant
 * waits for the holder's commit and then sees the stored original; undefined
 * means this transaction owns the claim and must store the message.
 */
async function claimClientMsgId(tx: Db, message: StoredMessage): Promise<SendOutcome | undefined> {
  const sender = String(message.senderId);
  const claimed = await tx.query(
    `INSERT INTO sent_messages (sender_id, client_msg_id, conversation_id, message_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (sender_id, client_msg_id) DO NOTHING RETURNING 1`,
    [sender, message.clientMsgId, String(message.conversationId), String(message.messageId)],
  );
  if (claimed.rows.length > 0) return undefined;
  const { rows } = await tx.query<MessageRow & { sender_seq: string }>(
    `SELECT s.sender_seq, ${MESSAGE_COLUMNS} FROM sent_messages s
     JOIN messages m ON m.conversation_id = s.conversation_id AND m.message_id = s.message_id
     WHERE s.sender_id = $1 AND s.client_msg_id = $2`,
    [sender, message.clientMsgId],
  );
  if (rows[0] === undefined) throw new Error(`client message ${message.clientMsgId} is claimed but not stored`);
  return { message: toMessage(rows[0]), senderSeq: BigInt(rows[0].sender_seq), duplicate: true, entries: [] };
}

/**
 * Gives each user (sorted, unique) their next seq and writes their entry, in
 * one statement: the head rows are locked in ascending user id, the order
 * every writer follows.
 */
async function appendEntries(
  tx: Db,
  users: readonly bigint[],
  kind: number,
  conversationId: bigint,
  messageId: bigint,
  readerId?: bigint,
  readAt?: Date,
): Promise<Map<bigint, bigint>> {
  const seqs = new Map<bigint, bigint>();
  if (users.length === 0) return seqs;
  const { rows } = await tx.query<{ user_id: string; seq: string }>(
    `WITH heads AS (
       INSERT INTO inbox_heads AS h (user_id, head_seq)
       SELECT u, 1 FROM unnest($1::bigint[]) AS u ORDER BY u
       ON CONFLICT (user_id) DO UPDATE SET head_seq = h.head_seq + 1
       RETURNING h.user_id, h.head_seq)
     INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id, reader_id, read_at)
     SELECT user_id, head_seq, $2, $3, $4, $5::bigint, $6::timestamptz FROM heads
     RETURNING user_id, seq`,
    [users.map(String), kind, String(conversationId), String(messageId), readerId === undefined ? null : String(readerId), readAt ?? null],
  );
  for (const row of rows) seqs.set(BigInt(row.user_id), BigInt(row.seq));
  return seqs;
}

/** Unread, for messages aliased `u`: after the marker, not the reader's own, not system messages (sender 0). */
function unread(readMarker: string, reader: string): string {
  return `u.message_id > ${readMarker} AND u.sender_id <> ${reader} AND u.sender_id <> 0`;
}

function uniqueSorted(ids: readonly bigint[]): bigint[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function toEntries(seqs: Map<bigint, bigint>, item: InboxItem): InboxEntry[] {
  return [...seqs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([userId, seq]) => ({ userId, seq, item }));
}

function toConversation(row: ConversationRow, members: MemberRecord[]): ConversationRecord {
  const kind = KINDS[row.kind];
  if (kind === undefined) throw new Error(`conversation ${row.id} has unknown kind ${row.kind}`);
  const settings = { historyVisibleToNewMembers: row.history_visible };
  return {
    id: BigInt(row.id),
    kind,
    name: row.name,
    createdAt: row.created_at,
    members,
    ...(kind === "group" ? { settings } : {}),
    deleted: row.deleted,
  };
}

function toRole(row: MemberRow): MemberRole {
  const role = ROLES[row.role];
  if (role === undefined) throw new Error(`member ${row.user_id} of ${row.conversation_id} has unknown role ${row.role}`);
  return role;
}

function toMessage(row: MessageRow): StoredMessage {
  return {
    messageId: BigInt(row.message_id),
    conversationId: BigInt(row.conversation_id),
    senderId: BigInt(row.sender_id),
    senderDeviceId: BigInt(row.sender_device_id),
    clientMsgId: row.client_msg_id,
    text: row.text,
    // pg returns a Buffer, PGlite a Uint8Array: callers get a plain Uint8Array either way.
    ...(row.system === null ? {} : { system: new Uint8Array(row.system) }),
    createdAt: row.created_at,
  };
}

function toInboxEntry(userId: bigint, row: InboxRow): InboxEntry {
  const seq = BigInt(row.seq);
  if (row.kind === ENTRY_READ) {
    const read = {
      conversationId: BigInt(row.entry_conversation_id),
      // The schema's CHECK guarantees both for read entries.
      userId: BigInt(row.reader_id!),
      messageId: BigInt(row.entry_message_id),
      readAt: row.read_at!,
    };
    return { userId, seq, item: { kind: "read", read } };
  }
  // Entries are written with their message in one transaction and messages are never deleted.
  if (row.message_id === null) throw new Error(`inbox entry ${userId}/${seq} has no stored message`);
  return { userId, seq, item: { kind: "message", message: toMessage(row as MessageRow) } };
}

function copyMessage(message: StoredMessage): StoredMessage {
  const { system, ...rest } = message;
  return system === undefined ? rest : { ...rest, system: new Uint8Array(system) };
}
