import { blockUser, listBlockedUsers, type Profile, unblockUser } from "./api.js";
import type { Profiles } from "./profiles.js";
import type { TokenSource } from "./session.js";

/**
 * Whom this user blocks, from the account API (no event announces a block,
 * not even to this user's other tabs: the list is re-read when the blocked
 * list is opened). The server enforces a block; this list only decides what
 * the screen offers (Block or Unblock) and explains why sends are refused.
 */
export class Blocking {
  readonly blocked = new Map<bigint, Profile>();
  /** False until the first list arrived: the header offers nothing before. */
  loaded = false;

  constructor(
    private readonly tokens: TokenSource,
    private readonly profiles: Profiles,
    private readonly changed: () => void,
  ) {}

  has(userId: bigint): boolean {
    return this.blocked.has(userId);
  }

  /** Re-reads the list; throws the server's refusal (the caller shows it). */
  async load(): Promise<void> {
    const list = await listBlockedUsers(await this.tokens.token());
    this.blocked.clear();
    for (const profile of list) {
      this.profiles.remember(profile);
      this.blocked.set(profile.userId, profile);
    }
    this.loaded = true;
    this.changed();
  }

  async block(userId: bigint): Promise<void> {
    const profile = await blockUser(await this.tokens.token(), userId);
    this.profiles.remember(profile);
    this.blocked.set(profile.userId, profile);
    this.changed();
  }

  async unblock(userId: bigint): Promise<void> {
    await unblockUser(await this.tokens.token(), userId);
    this.blocked.delete(userId);
    this.changed();
  }
}
