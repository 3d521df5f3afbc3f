import { createClient, type Transport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import type { DisplayNames } from "../ports.js";
import { TtlCache } from "./ttl-cache.js";

/**
 * Display names from the account service, cached for a minute (a rename
 * shows in pushes within that) and for at most 10,000 users, so a burst of
 * messages from one sender costs one GetUsers.
 */
export class AccountDisplayNames implements DisplayNames {
  private readonly client;
  private readonly cache = new TtlCache<bigint, string | undefined>({ ttlMs: 60_000, maxEntries: 10_000 });

  constructor(transport: Transport) {
    this.client = createClient(AccountInternalService, transport);
  }

  displayName(userId: bigint): Promise<string | undefined> {
    return this.cache.get(userId, async () => {
      const { profiles } = await this.client.getUsers({ userIds: [userId] }, { timeoutMs: 5_000 });
      const profile = profiles.find((p) => p.userId === userId);
      return profile === undefined ? undefined : profile.displayName || profile.username;
    });
  }
}
