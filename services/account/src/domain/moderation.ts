import type { EventEmitter } from "node:events";
import { InvalidInput, NotAllowed, NotFound } from "../errors.js";
import type { AccountStore, LiveSessionEntry, User } from "../ports.js";
import type { AccountEvents } from "./accounts.js";

/** Longest reason an operator may give (it goes to the audit log only). */
export const MAX_REASON_CHARS = 500;

/**
 * Operators' moderation of accounts: find a user, disable or enable an
 * account, list and end its sessions. Ends of sessions are announced like
 * any other (sessionsEnded), so gateways close the sockets: 4201 for a
 * disabled account (every session), 4102 for a session an operator ended.
 * Who may call it is the access policy's business (the operator role).
 */
export class Moderation {
  constructor(
    private readonly store: AccountStore,
    private readonly events: EventEmitter<AccountEvents>,
    private readonly profile: (ref: { id: bigint } | { username: string }) => Promise<User>,
  ) {}

  async find(ref: { id: bigint } | { username: string }): Promise<{ user: User; disabledAt: Date | undefined; liveSessions: number }> {
    const user = await this.profile(ref);
    const [disabledAt, sessions] = await Promise.all([this.store.disabledAt(user.id), this.store.liveSessions(user.id)]);
    return { user, disabledAt, liveSessions: sessions.length };
  }

  async disable(userId: bigint, reason: string): Promise<{ wasDisabled: boolean; ended: bigint[] }> {
    requireUser(userId);
    if ([...reason].length > MAX_REASON_CHARS) throw new InvalidInput("reason", `must be at most ${MAX_REASON_CHARS} characters`);
    const outcome = await this.store.disableUser(userId);
    if (outcome === undefined) throw new NotFound(`no user with id ${userId}`);
    // Every session, listed or not: a log-in that raced the disable is covered too.
    this.events.emit("sessionsEnded", { userId, sessionIds: [...outcome.ended].sort(ascending), allSessions: true, reason: "account_disabled" });
    this.events.emit("notificationTargetsChanged", userId);
    return outcome;
  }

  async enable(userId: bigint): Promise<boolean> {
    requireUser(userId);
    const was = await this.store.enableUser(userId);
    if (was === undefined) throw new NotFound(`no user with id ${userId}`);
    return was;
  }

  async sessions(userId: bigint): Promise<LiveSessionEntry[]> {
    requireUser(userId);
    if ((await this.store.findUsersByIds([userId])).length === 0) throw new NotFound(`no user with id ${userId}`);
    return this.store.liveSessions(userId);
  }

  async endSession(userId: bigint, sessionId: bigint): Promise<void> {
    requireUser(userId);
    if (sessionId === 0n) throw new InvalidInput("session_id", "is required");
    const [session] = await this.store.findSessions([sessionId]);
    if (session === undefined || session.userId !== userId || session.revoked || !(await this.store.revokeSession(sessionId))) {
      throw new NotFound(`no live session ${sessionId} of user ${userId}`);
    }
    this.events.emit("sessionsEnded", { userId, sessionIds: [sessionId], allSessions: false, reason: "revoked" });
    this.events.emit("notificationTargetsChanged", userId);
  }

  /** Refuses a log-in to a disabled account (after its password was checked, so it reveals nothing to a guesser). */
  async refuseDisabled(userId: bigint): Promise<void> {
    if ((await this.store.disabledAt(userId)) !== undefined) throw new NotAllowed("this account is disabled");
  }

  /** Checked again once a log-in's session exists: a disable that committed meanwhile ends it too. */
  async refuseDisabledAfterStart(userId: bigint): Promise<void> {
    if ((await this.store.disabledAt(userId)) === undefined) return;
    await this.disable(userId, "");
    throw new NotAllowed("this account is disabled");
  }
}

function requireUser(userId: bigint): void {
  if (userId === 0n) throw new InvalidInput("user_id", "is required");
}

function ascending(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
