import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRouterTransport } from "@connectrpc/connect";
import { until } from "@parley/testkit";
import { followEveryInstance } from "../src/every-instance.js";

describe("followEveryInstance", () => {
  it("follows each registered instance, again after its task ends, and stops once it has left", async () => {
    let registered = [{ address: "a", draining: false }];
    const runs = new Map<string, number>();
    const aborted: string[] = [];
    const errors: string[] = [];
    const follow = followEveryInstance(
      {
        current: () => registered,
        transport: (address) =>
          Object.assign(
            createRouterTransport(() => {}),
            { address },
          ),
      },
      async (t, signal) => {
        const address = (t as unknown as { address: string }).address;
        runs.set(address, (runs.get(address) ?? 0) + 1);
        if (address === "a" && (runs.get("a") ?? 0) === 1) throw new Error("stream broke");
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        aborted.push(address);
      },
      { refreshMs: 10, retryMs: 10, onError: (_err, address) => errors.push(address) },
    );
    try {
      await until(() => (runs.get("a") ?? 0) >= 2, "a's task run again after it failed");
      assert.deepEqual(errors, ["a"]);
      registered = [...registered, { address: "b", draining: false }];
      await until(() => runs.has("b"), "a task for the instance that appeared");
      registered = registered.filter((i) => i.address !== "a");
      await until(() => aborted.includes("a"), "the task of the instance that left aborted");
      assert.ok(!aborted.includes("b"));
    } finally {
      follow.close();
    }
    await until(() => aborted.includes("b"), "close aborts every task");
  });
});
