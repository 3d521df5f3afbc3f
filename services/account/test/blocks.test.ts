import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import type { AccountEvents } from "../src/domain/accounts.js";
import { Blocks, MAX_BLOCKED_USERS } from "../src/domain/blocks.js";
import { InvalidInput, mapAccountError, NotAllowed } from "../src/errors.js";
import type { AccountStore, BlockOutcome, User } from "../src/ports.js";

const user = (id: bigint): User => ({ id, username: `u${id}`, displayName: `U${id}`, passwordHash: "h", createdAt: new Date(0) });

/** The block domain over a store stand-in holding blocks as "blocker:blocked" with the limit it is given. */
function blocks(max?: number) {
  const rows = new Set<string>();
  const store = {
    async block(userId: bigint, otherId: bigint, limit: number): Promise<BlockOutcome> {
      if (rows.has(`${userId}:${otherId}`)) return "already";
      if ([...rows].filter((r) => r.startsWith(`${userId}:`)).length >= limit) return "limit";
      rows.add(`${userId}:${otherId}`);
      return "blocked";
    },
    async unblock(userId: bigint, otherId: bigint) {
      return rows.delete(`${userId}:${otherId}`);
    },
    async blockState(userId: bigint, otherId: bigint) {
      return { userBlocksOther: rows.has(`${userId}:${otherId}`), otherBlocksUser: rows.has(`${otherId}:${userId}`) };
    },
  } as unknown as AccountStore;
  const events = new EventEmitter<AccountEvents>();
  const announced: [bigint, bigint, boolean][] = [];
  events.on("blocksChanged", (a, b, on) => announced.push([a, b, on]));
  const profile = async (ref: { id: bigint } | { username: string }) => user("id" in ref ? ref.id : 99n);
  return { domain: new Blocks(store, events, profile, max), announced };
}

describe("blocks (account domain)", () => {
  it("allows 1,000 blocked users by default and refuses one more with RESOURCE_EXHAUSTED saying what to do", async () => {
    assert.equal(MAX_BLOCKED_USERS, 1_000);
    const { domain } = blocks(2);
    await domain.block(1n, { id: 2n });
    await domain.block(1n, { id: 3n });
    const refused = await domain.block(1n, { id: 4n }).catch((err: unknown) => err);
    const status = mapAccountError(refused);
    assert.equal(status?.code, Code.ResourceExhausted);
    assert.equal(status?.rawMessage, "you block 2 users already, the most allowed; unblock someone first");
    await domain.block(1n, { id: 2n }); // a repeat at the limit is no new block
  });

  it("announces every block and unblock (a repeat too, for a watcher that missed the first), and refuses blocking oneself", async () => {
    const { domain, announced } = blocks();
    await domain.block(1n, { id: 2n });
    await domain.block(1n, { id: 2n });
    assert.equal(await domain.unblock(1n, 2n), true);
    assert.deepEqual(announced, [
      [1n, 2n, true],
      [1n, 2n, true],
      [1n, 2n, false],
    ]);
    await assert.rejects(domain.block(1n, { id: 1n }), (err) => err instanceof InvalidInput && err.message === "user cannot be yourself");
    await assert.rejects(domain.unblock(1n, 0n), (err) => err instanceof InvalidInput && err.message === "user_id is required");
  });

  it("refuses friend requests across a block either way, telling only the blocker who blocked", async () => {
    const { domain } = blocks();
    await domain.block(1n, { id: 2n });
    await assert.rejects(domain.refuseIfBlocked(1n, 2n), (err) => err instanceof NotAllowed && /unblock them first/.test(err.message));
    await assert.rejects(domain.refuseIfBlocked(2n, 1n), (err) => err instanceof NotAllowed && err.message === "you cannot add this user as a friend");
    await domain.refuseIfBlocked(2n, 3n);
  });
});
