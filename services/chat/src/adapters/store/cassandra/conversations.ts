import { setTimeout as sleep } from "node:timers/promises";
import { ConversationMissingError, type ConversationRecord, type GroupChange, type GroupWritten, type NewGroup, type SendOutcome } from "../../../ports.js";
import { KIND_CODES, ROLE_CODES } from "../sql-rows.js";
import { checkSystemMessage } from "../sql-steps.js";
import { applyGroupChange } from "./group-change.js";
import { completeMessage, messageExists, storeNewMessage, type Writer } from "./message-writes.js";
import { bigintOf, toConversationRecord, toConversationState, type ConversationState, type PendingMessage } from "./rows.js";

/**
 * Conversations, members and groups on Cassandra. A conversation is one row;
 * every change to it is a compare-and-set on its `version`, which stands in
 * for the SQL adapter's row lock: decide() sees the state its change is
 * applied to, or the change is decided again.
 */

/** Rounds of decide() a change gets against concurrent changes of the same group before it gives up. */
const MAX_ROUNDS = 100;

const table = (w: Writer, name: string) => `${w.cql.keyspace}.${name}`;

/** The conversation row; `serial` sees a compare-and-set still in flight (for writers). */
export async function loadState(w: Writer, id: bigint, serial: boolean): Promise<ConversationState | undefined> {
  const query = `SELECT * FROM ${table(w, "conversations")} WHERE id = ?`;
  const [row] = serial ? await w.cql.serialRead(query, [id]) : await w.cql.read(query, [id]);
  return row === undefined ? undefined : toConversationState(row);
}

export async function readMarkers(w: Writer, id: bigint): Promise<Map<bigint, bigint>> {
  const rows = await w.cql.read(`SELECT user_id, read_message_id FROM ${table(w, "read_markers")} WHERE conversation_id = ?`, [id]);
  return new Map(rows.map((row) => [bigintOf(row.user_id), bigintOf(row.read_message_id)]));
}

export async function loadConversation(w: Writer, id: bigint): Promise<ConversationRecord | undefined> {
  const [state, markers] = await Promise.all([loadState(w, id, false), readMarkers(w, id)]);
  return state === undefined ? undefined : toConversationRecord(state, markers);
}

/** The pair's conversation: claimed through direct_pairs, then made sure of (an opener may have died in between). */
export async function openDirect(w: Writer, userA: bigint, userB: bigint, newId: bigint): Promise<ConversationRecord> {
  const [low, high] = userA < userB ? [userA, userB] : [userB, userA];
  const claim = await w.cql.lwt(`INSERT INTO ${table(w, "direct_pairs")} (user_low, user_high, conversation_id) VALUES (?, ?, ?) IF NOT EXISTS`, [
    low,
    high,
    newId,
  ]);
  const id = claim.applied ? newId : bigintOf(claim.row!.conversation_id);
  await listFor(w, id, [low, high]);
  if (claim.applied || (await loadState(w, id, true)) === undefined) {
    const now = new Date();
    const members = new Map([
      [low, ROLE_CODES.member],
      [high, ROLE_CODES.member],
    ]);
    await w.cql.lwt(
      `INSERT INTO ${table(w, "conversations")} (id, kind, name, created_at, history_visible, deleted, version, roles, joined, history_from)
       VALUES (?, ?, '', ?, false, false, 1, ?, ?, ?) IF NOT EXISTS`,
      [id, KIND_CODES.direct, now, members, new Map([...members.keys()].map((u) => [u, now])), new Map([...members.keys()].map((u) => [u, 0n]))],
    );
  }
  const conversation = await loadConversation(w, id);
  if (conversation === undefined) throw new Error(`direct conversation ${id} vanished`);
  return conversation;
}

export async function createGroup(w: Writer, input: NewGroup): Promise<GroupWritten> {
  checkSystemMessage(input.id, input.systemMessage);
  const now = new Date();
  const users = input.members.map((m) => m.userId);
  await listFor(w, input.id, users);
  const pending: PendingMessage = { message: input.systemMessage, recipients: users };
  const created = await w.cql.lwt(
    `INSERT INTO ${table(w, "conversations")} (id, kind, name, created_at, history_visible, deleted, version, roles, joined, history_from,
       pending_message_id, pending_text, pending_system, pending_created_at, pending_recipients)
     VALUES (?, ?, ?, ?, ?, false, 1, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
    [
      input.id,
      KIND_CODES.group,
      input.name,
      now,
      input.settings.historyVisibleToNewMembers,
      new Map(input.members.map((m) => [m.userId, ROLE_CODES[m.role]])),
      new Map(users.map((u) => [u, now])),
      new Map(users.map((u) => [u, 0n])),
      ...pendingValues(pending),
    ],
  );
  if (!created.applied) throw new Error(`conversation ${input.id} already exists`);
  const outcome = await finishPending(w, input.id, pending);
  return { conversation: (await loadConversation(w, input.id))!, outcome };
}

export async function updateGroup(w: Writer, id: bigint, decide: (current: ConversationRecord) => GroupChange): Promise<GroupWritten> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const state = await currentState(w, id);
    const change = decide(toConversationRecord(state, await readMarkers(w, id)));
    checkSystemMessage(id, change.systemMessage);
    const next = applyGroupChange(state, change, new Date());
    // Added members are listed (and start with no read marker) before the change lands:
    // a listing skips a conversation the user is not a member of, so a lost race leaves nothing visible.
    // The marker goes by LWT like every other write to it: a plain delete carries the chat host's
    // clock and could shadow a later LWT write stamped by a node whose clock is behind.
    await listFor(w, id, next.added);
    for (const userId of next.added)
      await w.cql.lwt(`DELETE FROM ${table(w, "read_markers")} WHERE conversation_id = ? AND user_id = ? IF EXISTS`, [id, userId]);
    const pending: PendingMessage = { message: change.systemMessage, recipients: next.recipients };
    const params = [
      next.name,
      next.historyVisible,
      next.deleted,
      next.roles,
      next.joined,
      next.historyFrom,
      state.version + 1n,
      ...pendingValues(pending),
      id,
      state.version,
    ];
    if (!(await changed(w, params, state, change))) {
      // Another change landed first: decide again, after a pause that parts proposers dueling on the row.
      await sleep(Math.random() * 5 * Math.min(round + 1, 10));
      continue;
    }
    // Removed members' user_conversations rows stay (listings skip groups they are not in): a
    // delete could shadow their re-addition written later by a process whose clock is behind.
    const outcome = await finishPending(w, id, pending);
    return { conversation: (await loadConversation(w, id))!, outcome };
  }
  throw new Error(`group ${id} changed ${MAX_ROUNDS} times while a change was being decided; try again`);
}

/** The row as a writer must see it: missing is an error, and a change left half done by a dead process is finished first. */
export async function currentState(w: Writer, id: bigint): Promise<ConversationState> {
  for (;;) {
    const state = await loadState(w, id, true);
    if (state === undefined) throw new ConversationMissingError(`conversation ${id} does not exist`);
    if (state.pending === undefined) return state;
    await finishPending(w, id, state.pending);
  }
}

/** The compare-and-set of a group change; a timed-out one is judged by whether its system message is now pending or stored. */
async function changed(w: Writer, params: unknown[], state: ConversationState, change: GroupChange): Promise<boolean> {
  try {
    const result = await w.cql.lwt(
      `UPDATE ${table(w, "conversations")} SET name = ?, history_visible = ?, deleted = ?, roles = ?, joined = ?, history_from = ?, version = ?,
         pending_message_id = ?, pending_text = ?, pending_system = ?, pending_created_at = ?, pending_recipients = ?
       WHERE id = ? IF version = ?`,
      params,
    );
    return result.applied;
  } catch (err) {
    const now = await loadState(w, state.id, true);
    const mine = change.systemMessage.messageId;
    if (now?.pending?.message.messageId === mine) return true;
    if (now !== undefined && now.version > state.version && (await messageExists(w, state.id, mine))) return true;
    if (now?.version === state.version) return false;
    throw err;
  }
}

/** Stores a change's system message for its recipients (or finds it stored), then clears it from the row. */
async function finishPending(w: Writer, id: bigint, pending: PendingMessage): Promise<SendOutcome> {
  const { message, recipients } = pending;
  let outcome = await completeMessage(w, id, message.messageId);
  if (outcome === undefined) {
    const stored = await storeNewMessage(w, message, recipients);
    outcome = stored === "taken" ? await completeMessage(w, id, message.messageId) : stored;
  }
  if (outcome === undefined) throw new Error(`system message ${message.messageId} of conversation ${id} vanished`);
  await w.cql.lwt(
    `UPDATE ${table(w, "conversations")} SET pending_message_id = null, pending_text = null, pending_system = null, pending_created_at = null,
       pending_recipients = null WHERE id = ? IF pending_message_id = ?`,
    [id, message.messageId],
  );
  return { ...outcome, duplicate: false };
}

function pendingValues({ message, recipients }: PendingMessage): unknown[] {
  return [message.messageId, message.text, message.system === undefined ? null : Buffer.from(message.system), message.createdAt, new Set(recipients)];
}

/** Lists the conversation for each user (idempotent). */
async function listFor(w: Writer, id: bigint, users: readonly bigint[]): Promise<void> {
  await Promise.all(users.map((userId) => w.cql.write(`INSERT INTO ${table(w, "user_conversations")} (user_id, conversation_id) VALUES (?, ?)`, [userId, id])));
}
