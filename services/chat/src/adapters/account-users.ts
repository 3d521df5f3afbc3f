import { createClient, type Transport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { dependencyFailure } from "@parley/runtime";
import type { UserDirectory } from "../ports.js";

/** Which users exist, asked of the account service. */
export class AccountUserDirectory implements UserDirectory {
  private readonly client;

  constructor(transport: Transport) {
    this.client = createClient(AccountInternalService, transport);
  }

  async existing(ids: readonly bigint[]): Promise<Set<bigint>> {
    const { profiles } = await this.client.getUsers({ userIds: [...ids] }).catch((err: unknown) => {
      throw dependencyFailure("the account service", err);
    });
    return new Set(profiles.map((p) => p.userId));
  }

  async usernames(ids: readonly bigint[]): Promise<Map<bigint, string>> {
    const { profiles } = await this.client.getUsers({ userIds: [...ids] }).catch((err: unknown) => {
      throw dependencyFailure("the account service", err);
    });
    return new Map(profiles.map((p) => [p.userId, p.username]));
  }
}
