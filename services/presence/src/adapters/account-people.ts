import { createClient, type Transport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { dependencyFailure } from "@parley/runtime";
import type { PeopleDirectory } from "../ports.js";

/** The directory on the account service. */
export class AccountPeopleDirectory implements PeopleDirectory {
  private readonly client;

  constructor(transport: Transport) {
    this.client = createClient(AccountInternalService, transport);
  }

  async friendIds(userId: bigint): Promise<bigint[]> {
    return (await this.client.listFriendIds({ userId }).catch(accountFailure)).friendIds;
  }

  async hiding(userIds: readonly bigint[]): Promise<Set<bigint>> {
    if (userIds.length === 0) return new Set();
    return new Set((await this.client.getPresenceVisibility({ userIds: [...userIds] }).catch(accountFailure)).hiddenUserIds);
  }
}

function accountFailure(err: unknown): never {
  throw dependencyFailure("the account service", err);
}
