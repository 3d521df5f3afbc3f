import type { ConversationKind, ConversationRecord, MemberRole, StoredMessage } from "../../../ports.js";
import { KINDS, ROLES } from "../sql-rows.js";

/**
 * Rows of the Cassandra chat schema and their mapping to the store's
 * records. The client decodes bigint as BigInt, maps as Map and sets as Set
 * (connect.ts), and an empty collection comes back as null.
 */
export type Row = Record<string, unknown>;

export const MESSAGE_COLUMNS = "conversation_id, message_id, sender_id, sender_device_id, client_msg_id, text, system, created_at";
/** MESSAGE_COLUMNS and the edit and deletion times, for reads (a send's INSERT names MESSAGE_COLUMNS only: no null cells written). */
export const READ_COLUMNS = `${MESSAGE_COLUMNS}, edited_at, deleted_at, reply_to, mentioned`;
export const ENTRY_COLUMNS = "seq, kind, conversation_id, message_id, reader_id, read_at, emoji";

/** A system message a group change has decided on and not yet stored for every recipient. */
export interface PendingMessage {
  message: StoredMessage;
  recipients: bigint[];
}

/** A conversation row as the store works with it: members as three maps keyed by user id. */
export interface ConversationState {
  id: bigint;
  kind: ConversationKind;
  name: string;
  createdAt: Date;
  historyVisible: boolean;
  deleted: boolean;
  /** Every change sets version + 1 IF version is what it read: the compare-and-set that stands in for a row lock. */
  version: bigint;
  roles: Map<bigint, number>;
  joined: Map<bigint, Date>;
  historyFrom: Map<bigint, bigint>;
  pending?: PendingMessage;
}

export const bigintOf = (value: unknown): bigint => (typeof value === "bigint" ? value : BigInt(value as number | string));
const mapOf = <V>(value: unknown): Map<bigint, V> => (value instanceof Map ? (value as Map<bigint, V>) : new Map());

export function toMessage(row: Row): StoredMessage {
  const system = row.system;
  return {
    messageId: bigintOf(row.message_id),
    conversationId: bigintOf(row.conversation_id),
    senderId: bigintOf(row.sender_id),
    senderDeviceId: bigintOf(row.sender_device_id),
    clientMsgId: String(row.client_msg_id ?? ""),
    text: String(row.text ?? ""),
    // A blob comes back as a Buffer; callers get a plain Uint8Array, as from the SQL adapters.
    ...(system === null || system === undefined ? {} : { system: new Uint8Array(system as Uint8Array) }),
    createdAt: row.created_at as Date,
    ...(row.edited_at instanceof Date ? { editedAt: row.edited_at } : {}),
    ...(row.deleted_at instanceof Date ? { deletedAt: row.deleted_at } : {}),
    ...(row.reply_to === null || row.reply_to === undefined ? {} : { replyToMessageId: bigintOf(row.reply_to) }),
    ...(row.mentioned instanceof Set && row.mentioned.size > 0
      ? { mentionedUserIds: [...(row.mentioned as Set<unknown>)].map(bigintOf).sort(compareIds) }
      : {}),
  };
}

/** The values of a message row's message columns, in MESSAGE_COLUMNS order (cassandra's blob wants a Buffer). */
export function messageValues(message: StoredMessage): unknown[] {
  return [
    message.conversationId,
    message.messageId,
    message.senderId,
    message.senderDeviceId,
    message.clientMsgId,
    message.text,
    message.system === undefined ? null : Buffer.from(message.system),
    message.createdAt,
  ];
}

export function toConversationState(row: Row): ConversationState {
  const kind = KINDS[Number(row.kind)];
  if (kind === undefined) throw new Error(`conversation ${String(row.id)} has unknown kind ${String(row.kind)}`);
  const pendingId = row.pending_message_id;
  const state: ConversationState = {
    id: bigintOf(row.id),
    kind,
    name: String(row.name ?? ""),
    createdAt: row.created_at as Date,
    historyVisible: row.history_visible === true,
    deleted: row.deleted === true,
    version: bigintOf(row.version ?? 0n),
    roles: mapOf<number>(row.roles),
    joined: mapOf<Date>(row.joined),
    historyFrom: mapOf<bigint>(row.history_from),
  };
  if (pendingId === null || pendingId === undefined) return state;
  const id = bigintOf(pendingId);
  const system = row.pending_system;
  const message: StoredMessage = {
    messageId: id,
    conversationId: state.id,
    senderId: 0n,
    senderDeviceId: 0n,
    clientMsgId: "",
    text: String(row.pending_text ?? ""),
    ...(system === null || system === undefined ? {} : { system: new Uint8Array(system as Uint8Array) }),
    createdAt: row.pending_created_at as Date,
  };
  const recipients = row.pending_recipients instanceof Set ? [...(row.pending_recipients as Set<bigint>)] : [];
  return { ...state, pending: { message, recipients } };
}

/** The record the port returns: members ordered by user id, with their read markers (0 when none). */
export function toConversationRecord(state: ConversationState, markers: ReadonlyMap<bigint, bigint>): ConversationRecord {
  const members = [...state.roles.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((userId) => ({
      userId,
      role: roleOf(state, userId),
      joinedAt: state.joined.get(userId) ?? state.createdAt,
      readMessageId: markers.get(userId) ?? 0n,
      historyFromMessageId: state.historyFrom.get(userId) ?? 0n,
    }));
  return {
    id: state.id,
    kind: state.kind,
    name: state.name,
    createdAt: state.createdAt,
    members,
    ...(state.kind === "group" ? { settings: { historyVisibleToNewMembers: state.historyVisible } } : {}),
    deleted: state.deleted,
  };
}

function roleOf(state: ConversationState, userId: bigint): MemberRole {
  const role = ROLES[state.roles.get(userId) ?? 0];
  if (role === undefined) throw new Error(`member ${userId} of ${state.id} has unknown role ${state.roles.get(userId)}`);
  return role;
}

const compareIds = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
