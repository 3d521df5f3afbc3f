import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRouterTransport } from "@connectrpc/connect";
import { AccountInternalService, type WatchAccountEventsResponse } from "@parley/contracts/parley/account/v1/account";
import { createLogger } from "@parley/runtime";
import { until } from "@parley/testkit";
import { AccountBlockDirectory } from "../src/adapters/account-blocks.js";

const silent = createLogger("test", "silent");

/** Account on Connect's in-memory transport: a set of "blocker:blocked" pairs, its CheckBlock calls counted, its announcements pushed by hand. */
function account() {
  const blocks = new Set<string>();
  const state = { checks: 0, watchers: 0 };
  const announce: ((event: WatchAccountEventsResponse["event"]) => void)[] = [];
  let endStream = () => {};
  const transport = createRouterTransport((router) =>
    router.service(AccountInternalService, {
      checkBlock(req) {
        state.checks++;
        return { userBlocksOther: blocks.has(`${req.userId}:${req.otherUserId}`), otherBlocksUser: blocks.has(`${req.otherUserId}:${req.userId}`) };
      },
      async *watchAccountEvents(_req, context) {
        state.watchers++;
        const queue: WatchAccountEventsResponse["event"][] = [];
        let wake = () => {};
        let ended = false;
        announce.push((event) => {
          queue.push(event);
          wake();
        });
        endStream = () => {
          ended = true;
          wake();
        };
        while (!context.signal.aborted && !ended) {
          const next = queue.shift();
          if (next) yield { event: next };
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    }),
  );
  const change = (blocker: bigint, blocked: bigint, on: boolean) => {
    if (on) blocks.add(`${blocker}:${blocked}`);
    else blocks.delete(`${blocker}:${blocked}`);
    for (const a of announce) a({ case: "blocksChanged", value: { userId: blocker, otherUserId: blocked, blocked: on } as never });
  };
  return { transport, state, change, endStream: () => endStream() };
}

describe("AccountBlockDirectory (chat's cache of account's blocks)", () => {
  it("asks account once per pair, answers from either side, and asks again once a change of the pair is announced", async () => {
    const acc = account();
    const directory = new AccountBlockDirectory(acc.transport, silent);
    directory.watch();
    try {
      await until(() => acc.state.watchers === 1, "the announcements followed");
      assert.deepEqual(await directory.between(1n, 2n), { userBlocksOther: false, otherBlocksUser: false });
      assert.deepEqual(await directory.between(2n, 1n), { userBlocksOther: false, otherBlocksUser: false });
      assert.equal(acc.state.checks, 1, "one question for the pair, whichever side asks");
      acc.change(2n, 1n, true);
      await until(async () => (await directory.between(1n, 2n)).otherBlocksUser, "the block seen after its announcement");
      assert.deepEqual(await directory.between(2n, 1n), { userBlocksOther: true, otherBlocksUser: false }, "the same entry, seen from the blocker");
      assert.deepEqual(directory.cached(1n, 2n), { userBlocksOther: false, otherBlocksUser: true }, "cached: the same answer without a promise");
      assert.deepEqual(directory.cached(2n, 1n), { userBlocksOther: true, otherBlocksUser: false });
      assert.equal(directory.cached(5n, 6n), undefined, "a pair never asked about is not cached");
      const checks = acc.state.checks;
      await directory.between(3n, 4n);
      await directory.between(2n, 1n);
      assert.equal(acc.state.checks, checks + 1, "another pair's question does not touch this one");
    } finally {
      directory.close();
    }
  });

  it("drops everything when an announcement stream breaks (what changed meanwhile is unknown), and bounds an entry's age", async () => {
    const acc = account();
    let now = 0;
    const directory = new AccountBlockDirectory(acc.transport, silent, { ttlMs: 1_000, now: () => now });
    directory.watch();
    try {
      await until(() => acc.state.watchers === 1, "the announcements followed");
      await directory.between(1n, 2n);
      acc.endStream();
      await until(() => acc.state.watchers === 2, "the stream opened again");
      assert.equal(directory.cached(1n, 2n), undefined, "nothing cached survives the break");
      const before = acc.state.checks;
      await directory.between(1n, 2n);
      assert.equal(acc.state.checks, before + 1, "asked again after the break");
      now += 1_000;
      assert.equal(directory.cached(1n, 2n), undefined, "an entry too old is not cached");
      await directory.between(1n, 2n);
      assert.equal(acc.state.checks, before + 2, "asked again once the entry is too old");
    } finally {
      directory.close();
    }
  });

  it("asks account once for a cold pair however many sends, from either side, wait for it at once", async () => {
    const acc = account();
    const directory = new AccountBlockDirectory(acc.transport, silent);
    acc.change(2n, 1n, true);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? directory.between(1n, 2n) : directory.between(2n, 1n))));
    assert.equal(acc.state.checks, 1, "one CheckBlock for 30 sends that missed together");
    assert.ok(
      answers.every((a, i) => (i % 2 === 0 ? a.otherBlocksUser && !a.userBlocksOther : a.userBlocksOther && !a.otherBlocksUser)),
      "each seen from its own side",
    );
  });

  it("answers fresh questions from account, never from the cache", async () => {
    const acc = account();
    const directory = new AccountBlockDirectory(acc.transport, silent);
    await directory.between(1n, 2n);
    await directory.fresh(1n, 2n);
    await directory.fresh(1n, 2n);
    assert.equal(acc.state.checks, 3);
  });
});
