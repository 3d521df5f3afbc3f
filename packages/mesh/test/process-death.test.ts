import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SOURCE_NODE_FLAGS, testEtcdUrl, uniqueEtcdPrefix, until } from "@parley/testkit";
import { connectEtcd } from "../src/adapters/etcd-client.js";
import { EtcdRegistry } from "../src/adapters/etcd-registry.js";
import { EtcdWorkerIdLease } from "../src/adapters/etcd-worker-ids.js";
import { dropConnection, ids } from "./support.js";

const HOLDER = fileURLToPath(new URL("./fixtures/hold-lease.ts", import.meta.url));
const TTL_SECONDS = 2;

/** Starts the holder process and resolves with it and its worker id once it holds both. */
async function startHolder(url: string, prefix: string, instanceId: string) {
  const child = spawn(process.execPath, [...SOURCE_NODE_FLAGS, HOLDER], {
    env: { ...process.env, ETCD_URL: url, ETCD_PREFIX: prefix, TTL_SECONDS: String(TTL_SECONDS), INSTANCE_ID: instanceId },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  return { child, workerId: (JSON.parse(line) as { workerId: number }).workerId };
}

describe("a process that dies without deregistering (etcd)", () => {
  const url = testEtcdUrl();
  const prefix = uniqueEtcdPrefix("process-death");
  const conn = connectEtcd({ endpoints: [url], prefix, leaseTtlSeconds: TTL_SECONDS, timeoutMs: 2000 });
  after(() => dropConnection(conn));

  it("disappears from watches and frees its worker id within one TTL of SIGKILL", async () => {
    const registry = new EtcdRegistry(conn);
    const taken = new EtcdWorkerIdLease(conn, "survivor");
    const claimers: EtcdWorkerIdLease[] = [];
    const holder = await startHolder(url, prefix, "doomed");
    // Whatever fails below, no lease keeps its keep-alives running (they would hold the test process open).
    try {
      assert.equal(holder.workerId, 0);
      const watch = await registry.watch("chat");
      assert.deepEqual(ids(watch.current()), ["doomed"]);
      assert.equal(await taken.claim(), 1, "0 is held by the live holder");

      holder.child.kill("SIGKILL");
      const killedAt = Date.now();
      await until(() => watch.current().length === 0, "the registration to expire", { timeoutMs: 10_000 });
      const goneAfterMs = Date.now() - killedAt;
      // One TTL from the last keep-alive, plus etcd's 500 ms expiry sweep and the watch event; a loaded machine gets slack.
      assert.ok(goneAfterMs <= TTL_SECONDS * 1000 + 3000, `gone after ${goneAfterMs} ms`);
      // The worker id hangs on its own lease, which expires on its own schedule within the same TTL.
      await until(
        async () => {
          const claimer = new EtcdWorkerIdLease(conn, `next-${claimers.length}`);
          claimers.push(claimer);
          const id = await claimer.claim();
          if (id !== 0) await claimer.close();
          return id === 0;
        },
        "the dead holder's worker id to be free",
        { timeoutMs: 10_000 },
      );
      assert.ok(Date.now() - killedAt <= TTL_SECONDS * 1000 + 3000, "the worker id is free within one TTL (and slack)");
    } finally {
      holder.child.kill("SIGKILL");
      for (const claimer of claimers) await claimer.close();
      await taken.close();
      await registry.close();
    }
  });
});
