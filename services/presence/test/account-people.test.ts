import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { AccountPeopleDirectory } from "../src/adapters/account-people.js";

/** Friends: 1-2, 1-3. User 3 hides their presence. */
const FRIENDS = new Map<bigint, bigint[]>([
  [1n, [2n, 3n]],
  [2n, [1n]],
  [3n, [1n]],
]);

/** Account on Connect's in-memory transport, counting calls; `batch` false plays an instance older than ListFriendIdsOf. */
function account(batch: boolean) {
  const calls = { listFriendIdsOf: [] as bigint[][], listFriendIds: 0, visibility: [] as bigint[][] };
  const transport = createRouterTransport((router) =>
    router.service(AccountInternalService, {
      listFriendIdsOf(req) {
        if (!batch) throw new ConnectError("unknown method", Code.Unimplemented);
        calls.listFriendIdsOf.push(req.userIds);
        return { lists: req.userIds.map((userId) => ({ userId, friendIds: FRIENDS.get(userId) ?? [] })) };
      },
      listFriendIds(req) {
        calls.listFriendIds++;
        return { friendIds: FRIENDS.get(req.userId) ?? [] };
      },
      getPresenceVisibility(req) {
        calls.visibility.push(req.userIds);
        return { hiddenUserIds: req.userIds.filter((id) => id === 3n) };
      },
    }),
  );
  return { directory: new AccountPeopleDirectory(transport), calls };
}

describe("AccountPeopleDirectory", () => {
  it("asks account once per turn for every friend list asked in it, each user once", async () => {
    const { directory, calls } = account(true);
    const lists = await Promise.all([directory.friendIds(1n), directory.friendIds(2n), directory.friendIds(1n), directory.friendIds(9n)]);
    assert.deepEqual(lists, [[2n, 3n], [1n], [2n, 3n], []]);
    assert.deepEqual(calls.listFriendIdsOf, [[1n, 2n, 9n]]);
  });

  it("asks visibility once per turn for the union of the users asked about", async () => {
    const { directory, calls } = account(true);
    const [a, b] = await Promise.all([directory.hiding([1n, 3n]), directory.hiding([2n, 3n])]);
    assert.deepEqual([[...a], [...b]], [[3n], [3n]]);
    assert.deepEqual(calls.visibility, [[1n, 3n, 2n]]);
    assert.deepEqual([...(await directory.hiding([]))], []);
  });

  it("asks one user at a time when account predates ListFriendIdsOf", async () => {
    const { directory, calls } = account(false);
    assert.deepEqual(await Promise.all([directory.friendIds(1n), directory.friendIds(3n)]), [[2n, 3n], [1n]]);
    assert.equal(calls.listFriendIds, 2);
  });
});
