import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { dependencyFailure, TurnBatch } from "@parley/runtime";
import type { PeopleDirectory } from "../ports.js";

/** Most users one account call names (account refuses more). */
export const USERS_PER_CALL = 1_000;
/** Calls of each kind out at once; questions asked meanwhile wait and go together (see TurnBatch). */
const CALLS_IN_FLIGHT = 4;

/**
 * The directory on the account service. Questions asked in one turn of the
 * event loop share one call: a burst of connects (a gateway's clients
 * arriving after a failover) asks for hundreds of friend lists and
 * visibilities at once, and a call costs far more than a row; with a few
 * calls out, what is asked meanwhile waits and goes together. An account
 * instance older than ListFriendIdsOf (a rolling upgrade) is asked one user
 * at a time.
 */
export class AccountPeopleDirectory implements PeopleDirectory {
  private readonly client;
  private readonly friendLists = new TurnBatch<bigint, bigint[]>((userIds) => this.listFriends(userIds), USERS_PER_CALL, CALLS_IN_FLIGHT);
  private readonly hidden = new TurnBatch<bigint, boolean>((userIds) => this.hides(userIds), USERS_PER_CALL, CALLS_IN_FLIGHT);

  constructor(transport: Transport) {
    this.client = createClient(AccountInternalService, transport);
  }

  friendIds(userId: bigint): Promise<bigint[]> {
    return this.friendLists.ask(userId);
  }

  async hiding(userIds: readonly bigint[]): Promise<Set<bigint>> {
    const answers = await Promise.all(userIds.map((userId) => this.hidden.ask(userId)));
    return new Set(userIds.filter((_, i) => answers[i]));
  }

  /** One call per question: asked only for the non-friends a viewer looks up (GetPresence), never on a connect's path. */
  async hiddenFrom(viewerId: bigint, userIds: readonly bigint[]): Promise<Set<bigint>> {
    if (userIds.length === 0) return new Set();
    const answer = await this.client.getPresenceVisibility({ userIds: [...new Set(userIds)], viewerId }).catch(accountFailure);
    return new Set(answer.hiddenUserIds);
  }

  private async listFriends(userIds: bigint[]): Promise<bigint[][]> {
    const unique = [...new Set(userIds)];
    let lists: Map<bigint, bigint[]>;
    try {
      const answer = await this.client.listFriendIdsOf({ userIds: unique });
      lists = new Map(answer.lists.map((list) => [list.userId, list.friendIds]));
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Unimplemented) accountFailure(err);
      const one = (userId: bigint) => this.client.listFriendIds({ userId }).catch(accountFailure);
      lists = new Map(await Promise.all(unique.map(async (userId) => [userId, (await one(userId)).friendIds] as const)));
    }
    return userIds.map((userId) => lists.get(userId) ?? []);
  }

  private async hides(userIds: bigint[]): Promise<boolean[]> {
    const answer = await this.client.getPresenceVisibility({ userIds: [...new Set(userIds)] }).catch(accountFailure);
    const hidden = new Set(answer.hiddenUserIds);
    return userIds.map((userId) => hidden.has(userId));
  }
}

function accountFailure(err: unknown): never {
  throw dependencyFailure("the account service", err);
}
