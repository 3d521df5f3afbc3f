import type { GroupChange, MemberRole } from "../../../ports.js";
import { ROLE_CODES } from "../sql-rows.js";
import type { ConversationState } from "./rows.js";

/** A group's columns after a change: what the compare-and-set writes. */
export interface ChangedGroup {
  name: string;
  historyVisible: boolean;
  deleted: boolean;
  roles: Map<bigint, number>;
  joined: Map<bigint, Date>;
  historyFrom: Map<bigint, bigint>;
  added: bigint[];
  removed: bigint[];
  /** Everyone who was a member before or after the change: the system message's recipients. */
  recipients: bigint[];
}

/**
 * Applies a decided change to a group's state, as the SQL adapter does:
 * removals, then additions (users already in the group are left as they are;
 * history from 0 when the settings after the change make it visible, else
 * from the system message), then roles, name and settings. A deletion removes
 * everyone and ignores the rest. Pure: the store writes the result.
 */
export function applyGroupChange(current: ConversationState, change: GroupChange, now: Date): ChangedGroup {
  const before = [...current.roles.keys()];
  if (change.delete === true) {
    return {
      name: current.name,
      historyVisible: current.historyVisible,
      deleted: true,
      roles: new Map(),
      joined: new Map(),
      historyFrom: new Map(),
      added: [],
      removed: before,
      recipients: sorted(before),
    };
  }
  const roles = new Map(current.roles);
  const joined = new Map(current.joined);
  const historyFrom = new Map(current.historyFrom);
  const removed: bigint[] = [];
  for (const userId of change.remove ?? []) {
    if (roles.delete(userId)) removed.push(userId);
    joined.delete(userId);
    historyFrom.delete(userId);
  }
  const historyVisible = (change.settings ?? { historyVisibleToNewMembers: current.historyVisible }).historyVisibleToNewMembers;
  const added: bigint[] = [];
  for (const { userId, role } of change.add ?? []) {
    if (roles.has(userId)) continue;
    roles.set(userId, code(role));
    joined.set(userId, now);
    historyFrom.set(userId, historyVisible ? 0n : change.systemMessage.messageId);
    added.push(userId);
  }
  for (const { userId, role } of change.roles ?? []) if (roles.has(userId)) roles.set(userId, code(role));
  return {
    name: change.name ?? current.name,
    historyVisible,
    deleted: false,
    roles,
    joined,
    historyFrom,
    added,
    removed,
    recipients: sorted([...new Set([...before, ...roles.keys()])]),
  };
}

const code = (role: MemberRole) => ROLE_CODES[role];
const sorted = (ids: bigint[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
