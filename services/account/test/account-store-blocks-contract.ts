import assert from "node:assert/strict";
import { it } from "node:test";
import { withAccountStore, type AccountStoreFixture } from "./account-store-contract.js";

/** The AccountStore contract for blocks (see the port's doc comments). */
export function describeAccountStoreBlocksContract(name: string, open: () => Promise<AccountStoreFixture>): void {
  withAccountStore(`account store contract: blocks (${name})`, open, (ctx) => {
    it("blocks one way, says so from both sides, lists newest first, and unblocks", async () => {
      const { store, newUser } = ctx();
      const [a, b, c] = [await newUser(), await newUser(), await newUser()];
      assert.equal(await store.block(a.id, b.id, 10), "blocked");
      assert.equal(await store.block(a.id, b.id, 10), "already");
      assert.deepEqual(await store.blockState(a.id, b.id), { userBlocksOther: true, otherBlocksUser: false });
      assert.deepEqual(await store.blockState(b.id, a.id), { userBlocksOther: false, otherBlocksUser: true });
      assert.deepEqual(await store.blockState(a.id, c.id), { userBlocksOther: false, otherBlocksUser: false });
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct creation times for the order below
      assert.equal(await store.block(a.id, c.id, 10), "blocked");
      assert.deepEqual(
        (await store.listBlocked(a.id)).map((x) => x.user.id),
        [c.id, b.id],
      );
      assert.ok((await store.listBlocked(a.id)).every((x) => x.since instanceof Date));
      assert.deepEqual(await store.listBlocked(b.id), []);
      assert.deepEqual(await store.blockedWith(b.id, [a.id, c.id]), new Set([a.id]), "either way");
      assert.deepEqual(await store.blockedWith(a.id, [b.id, c.id, a.id]), new Set([b.id, c.id]));
      assert.deepEqual(await store.blockedWith(a.id, []), new Set());
      assert.equal(await store.unblock(a.id, b.id), true);
      assert.equal(await store.unblock(a.id, b.id), false);
      assert.equal(await store.unblock(b.id, a.id), false, "only the blocker's own block");
      assert.deepEqual(await store.blockState(a.id, b.id), { userBlocksOther: false, otherBlocksUser: false });
    });

    it("refuses a block past the limit, even when many arrive at once", async () => {
      const { store, newUser } = ctx();
      const me = await newUser();
      const others = await Promise.all(Array.from({ length: 6 }, () => newUser()));
      const outcomes = await Promise.all(others.map((o) => store.block(me.id, o.id, 3)));
      assert.deepEqual(outcomes.filter((x) => x === "blocked").length, 3, String(outcomes));
      assert.equal((await store.listBlocked(me.id)).length, 3);
      const kept = (await store.listBlocked(me.id))[0]!.user.id;
      assert.equal(await store.block(me.id, kept, 3), "already", "a repeat at the limit is still a repeat");
    });

    it("leaves friends blocked either way out of friend lists, and brings them back on unblock", async () => {
      const { store, newUser } = ctx();
      const [a, b, c] = [await newUser(), await newUser(), await newUser()];
      for (const [x, y] of [
        [a, b],
        [a, c],
      ] as const) {
        await store.addFriend(x.id, y.id);
        await store.addFriend(y.id, x.id);
      }
      await store.block(b.id, a.id, 10);
      assert.deepEqual(
        await store.friendIdsOf([a.id, b.id]),
        new Map([
          [a.id, [c.id]],
          [b.id, []],
        ]),
      );
      assert.equal(await store.friendState(a.id, b.id), "friends", "the friendship itself is kept");
      await store.unblock(b.id, a.id);
      assert.deepEqual((await store.friendIdsOf([b.id])).get(b.id), [a.id]);
    });
  });
}
