import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EtcdOperation } from "@parley/runtime";
import { connectEtcd } from "../src/adapters/etcd-client.js";
import { EtcdRegistry } from "../src/adapters/etcd-registry.js";

describe("etcd error listener (metrics)", () => {
  it("hears of each failed call by its operation, once per failure", async () => {
    const heard: EtcdOperation[] = [];
    // Nothing listens on port 1: every call fails fast.
    const conn = connectEtcd({ endpoints: ["http://127.0.0.1:1"], prefix: "/errors-test", leaseTtlSeconds: 5, timeoutMs: 500 }, (operation) =>
      heard.push(operation),
    );
    const registry = new EtcdRegistry(conn);
    try {
      await assert.rejects(registry.list("chat"));
      assert.deepEqual(heard, ["list"]);
      await assert.rejects(
        registry.register({ service: "chat", instanceId: "chat-1", address: "127.0.0.1:1", zone: "", load: 0, capacity: 0, draining: false, publicUrl: "" }),
      );
      assert.deepEqual(heard, ["list", "lease"], "a registration that cannot get its lease fails there");
    } finally {
      await registry.close().catch(() => undefined);
      conn.close();
    }
  });
});
