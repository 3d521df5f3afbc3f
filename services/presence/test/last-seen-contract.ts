import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { LastSeenStore } from "../src/ports.js";

export interface LastSeenFixture {
  store: LastSeenStore;
  cleanup(): Promise<void>;
}

/** The LastSeenStore contract (see its doc comment), run against every adapter. */
export function describeLastSeenStoreContract(name: string, open: () => Promise<LastSeenFixture>): void {
  describe(`last seen store contract (${name})`, () => {
    let fixture: LastSeenFixture;
    let store: LastSeenStore;
    before(async () => {
      fixture = await open();
      store = fixture.store;
    });
    after(() => fixture?.cleanup());

    // Each test uses its own user ids, so they share one store.
    const T = 1_700_000_000_123;

    it("returns nothing for users never saved and for an empty list", async () => {
      assert.deepEqual(await store.load([9_000_000_000_000_000_001n]), new Map());
      assert.deepEqual(await store.load([]), new Map());
    });

    it("loads what was saved, to the millisecond, with ids beyond 2^53", async () => {
      const big = 9_007_199_254_740_993n;
      await store.save(big, T);
      await store.save(2n, T + 1);
      assert.deepEqual(
        await store.load([big, 2n, 3n]),
        new Map([
          [big, T],
          [2n, T + 1],
        ]),
      );
    });

    it("moves a time forward on a newer save", async () => {
      await store.save(10n, T);
      await store.save(10n, T + 60_000);
      assert.deepEqual(await store.load([10n]), new Map([[10n, T + 60_000]]));
    });

    it("never moves a time backwards on an older or repeated save", async () => {
      await store.save(20n, T);
      await store.save(20n, T - 5_000);
      await store.save(20n, T);
      assert.deepEqual(await store.load([20n]), new Map([[20n, T]]));
    });

    it("keeps the newest of concurrent saves", async () => {
      await Promise.all([T + 3, T + 1, T + 2].map((ms) => store.save(30n, ms)));
      assert.deepEqual(await store.load([30n]), new Map([[30n, T + 3]]));
    });
  });
}
