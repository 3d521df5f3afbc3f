import type { EventEmitter } from "node:events";
import { InvalidInput, LimitReached, NotAllowed } from "../errors.js";
import type { AccountStore, BlockEntry, User } from "../ports.js";
import type { AccountEvents } from "./accounts.js";

/** Most users one user may block: enough for any person, a bound on what one account costs (documented in the contract). */
export const MAX_BLOCKED_USERS = 1_000;

/**
 * Blocking: a user blocks another. The store holds the blocks; what they
 * mean is enforced where each thing happens: friend lists here (friendIdsOf
 * leaves a pair blocked either way out, which stops presence), friend
 * requests here, direct conversations in chat (told by the blocksChanged
 * event, its cache dropped), presence queries through
 * GetPresenceVisibility's viewer.
 */
export class Blocks {
  constructor(
    private readonly store: AccountStore,
    private readonly events: EventEmitter<AccountEvents>,
    private readonly profile: (ref: { id: bigint } | { username: string }) => Promise<User>,
    private readonly max = MAX_BLOCKED_USERS,
  ) {}

  async block(userId: bigint, ref: { id: bigint } | { username: string }): Promise<User> {
    const other = await this.profile(ref);
    if (other.id === userId) throw new InvalidInput("user", "cannot be yourself");
    const outcome = await this.store.block(userId, other.id, this.max);
    if (outcome === "limit") throw new LimitReached(`you block ${this.max} users already, the most allowed; unblock someone first`);
    // Announced on a repeat too: a watcher that missed the first (a broken stream) gets another chance.
    this.events.emit("blocksChanged", userId, other.id, true);
    return other;
  }

  async unblock(userId: bigint, otherId: bigint): Promise<boolean> {
    if (otherId === 0n) throw new InvalidInput("user_id", "is required");
    const was = await this.store.unblock(userId, otherId);
    this.events.emit("blocksChanged", userId, otherId, false);
    return was;
  }

  list(userId: bigint): Promise<BlockEntry[]> {
    return this.store.listBlocked(userId);
  }

  async state(userId: bigint, otherId: bigint): Promise<{ userBlocksOther: boolean; otherBlocksUser: boolean }> {
    if (userId === 0n || otherId === 0n) throw new InvalidInput("user_id", "and other_user_id are required");
    return this.store.blockState(userId, otherId);
  }

  /** Those of `userIds` blocked either way with `userId`. */
  blockedWith(userId: bigint, userIds: readonly bigint[]): Promise<Set<bigint>> {
    return this.store.blockedWith(userId, userIds);
  }

  /** Refuses a friend request between users blocked either way, without saying who blocks whom. */
  async refuseIfBlocked(userId: bigint, otherId: bigint): Promise<void> {
    const state = await this.store.blockState(userId, otherId);
    if (state.userBlocksOther) throw new NotAllowed("you block this user; unblock them first");
    if (state.otherBlocksUser) throw new NotAllowed("you cannot add this user as a friend");
  }
}
