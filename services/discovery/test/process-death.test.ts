import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { testEtcdUrl, uniqueEtcdPrefix } from "@parley/testkit";
import { connectEtcd } from "../src/adapters/etcd-client.js";
import { EtcdRegistry } from "../src/adapters/etcd-registry.js";
import { EtcdWorkerIdLease } from "../src/adapters/etcd-worker-ids.js";
import { dropConnection, ids, waitFor } from "./support.js";

const HOLDER = fileURLToPath(new URL("./fixtures/hold-lease.ts", import.meta.url));
const TTL_SECONDS = 2;

/** Starts the holder process and resolves with it and its worker id once it holds both. */
async function startHolder(url: string, prefix: string, instanceId: string) {
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER], {
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
    const holder = await startHolder(url, prefix, "doomed");
    assert.equal(holder.workerId, 0);
    const watch = await registry.watch("chat");
    assert.deepEqual(ids(watch.current()), ["doomed"]);
    const taken = new EtcdWorkerIdLease(conn, "survivor");
    assert.equal(await taken.claim(), 1, "0 is held by the live holder");

    holder.child.kill("SIGKILL");
    const killedAt = Date.now();
    await waitFor("the registration to expire", () => watch.current().length === 0, 10_000);
    const goneAfterMs = Date.now() - killedAt;
    // etcd checks expiry every 500 ms; the last keep-alive was at most one interval before the kill.
    assert.ok(goneAfterMs <= TTL_SECONDS * 1000 + 1500, `gone after ${goneAfterMs} ms`);
    const next = new EtcdWorkerIdLease(conn, "next");
    assert.equal(await next.claim(), 0, "the dead holder's id is free again");

    await next.close();
    await taken.close();
    await registry.close();
  });
});
