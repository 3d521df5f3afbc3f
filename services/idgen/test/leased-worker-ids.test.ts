import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@parley/contracts/grpc/health/v1/health";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { connectEtcd, type EtcdConnection } from "@parley/mesh";
import { startEtcd, testCredentials, testEtcdUrl, uniqueEtcdPrefix, until } from "@parley/testkit";
import { runToExit, startProcess, type ServiceProcess } from "../../../test/support/process.js";
import { decodeId, MAX_BATCH } from "../src/domain/snowflake.js";

const MAIN = "services/idgen/src/main.ts";
const TTL_SECONDS = 3;
const TOTAL_IDS = 1_000_000;

/** IDs one process handed out, and how many of its calls were refused as fenced. */
interface Harvest {
  ids: bigint[];
  refused: number;
}

/** Takes one batch, recording a fenced refusal (UNAVAILABLE) instead of failing. */
async function take(client: Client<typeof IdGenService>, into: Harvest): Promise<void> {
  try {
    into.ids.push(...(await client.nextIds({ count: MAX_BATCH }, { timeoutMs: 15_000 })).ids);
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code !== Code.Unavailable) throw err;
    into.refused++;
    await sleep(20);
  }
}

/** For each worker id, the first and last millisecond it appears in. */
function spans(ids: readonly bigint[]): Map<number, { first: number; last: number }> {
  const byWorker = new Map<number, { first: number; last: number }>();
  for (const id of ids) {
    const { workerId, timeMs } = decodeId(id);
    const span = byWorker.get(workerId);
    if (span === undefined) byWorker.set(workerId, { first: timeMs, last: timeMs });
    else {
      span.first = Math.min(span.first, timeMs);
      span.last = Math.max(span.last, timeMs);
    }
  }
  return byWorker;
}

describe("idgen with worker ids leased in etcd (separate processes)", () => {
  const url = testEtcdUrl();
  const prefix = uniqueEtcdPrefix("idgen-leases");
  const credentials = testCredentials();
  const env = { ...credentials.env("idgen"), IDGEN_PORT: "0", ETCD_ENDPOINTS: url, ETCD_PREFIX: prefix, DISCOVERY_LEASE_TTL_SECONDS: String(TTL_SECONDS) };
  /** IdGenService at a process, as chat (the role allowed to take ids). */
  const idgenAt = (p: ServiceProcess) => createClient(IdGenService, credentials.plane("chat").transport(new URL(p.url).host, "idgen"));
  let conn: EtcdConnection;
  const processes: ServiceProcess[] = [];
  before(() => {
    conn = connectEtcd({ endpoints: [url], prefix, leaseTtlSeconds: TTL_SECONDS, timeoutMs: 2000 });
  });
  after(async () => {
    for (const p of processes) {
      p.child.kill("SIGCONT");
      await p.stop("SIGKILL");
    }
    await conn.ns.delete().all().exec();
    conn.close();
    credentials.close();
  });

  it("hands out a million ids from two processes, one paused past its TTL, with no duplicate and no shared worker id", async () => {
    const a = await startProcess(MAIN, env, "idgen listening");
    processes.push(a);
    const clientA = idgenAt(a);
    const fromA: Harvest = { ids: [], refused: 0 };
    const fromB: Harvest = { ids: [], refused: 0 };
    while (fromA.ids.length < 200_000) await take(clientA, fromA);
    assert.equal(decodeId(fromA.ids[0]!).workerId, 0, "A leased the lowest id");

    a.child.kill("SIGSTOP");
    const pausedAt = Date.now();
    // Sent while A is stopped: answered only after SIGCONT, when A's lease has long expired.
    const pending = take(clientA, fromA);
    await until(async () => (await conn.ns.get("idgen/workers/0000").string()) === null, "etcd to expire A's lease and delete its key", { timeoutMs: 30_000 });
    const b = await startProcess(MAIN, env, "idgen listening");
    processes.push(b);
    const clientB = idgenAt(b);
    await take(clientB, fromB);
    assert.equal(decodeId(fromB.ids[0]!).workerId, 0, "B leased the id A lost");

    a.child.kill("SIGCONT");
    await pending;
    assert.equal(fromA.refused, 1, "the call held during the pause was refused: A's lease was fenced");
    const harvest = async (client: Client<typeof IdGenService>, into: Harvest) => {
      while (fromA.ids.length + fromB.ids.length < TOTAL_IDS) await take(client, into);
    };
    await Promise.all([harvest(clientA, fromA), harvest(clientB, fromB)]);

    const all = [...fromA.ids, ...fromB.ids];
    assert.ok(all.length >= TOTAL_IDS);
    assert.equal(new Set(all).size, all.length, "no id was handed out twice");

    const spansA = spans(fromA.ids);
    const spansB = spans(fromB.ids);
    assert.ok(spansA.get(0)!.last <= pausedAt, "A issued nothing with worker id 0 after it was paused");
    assert.ok(
      [...spansA.keys()].some((w) => w !== 0),
      "A claimed another worker id after resuming",
    );
    for (const [workerId, spanB] of spansB) {
      const spanA = spansA.get(workerId);
      if (spanA === undefined) continue;
      const apart = spanA.last < spanB.first || spanB.last < spanA.first;
      assert.ok(apart, `worker id ${workerId} was used by both processes at the same time`);
    }

    // A graceful stop frees the ids at once (revoke), not one TTL later.
    assert.equal(await a.stop("SIGTERM"), 0);
    assert.equal(await b.stop("SIGTERM"), 0);
    assert.deepEqual(await conn.ns.getAll().prefix("idgen/workers/").keys(), []);
    assert.deepEqual(await conn.ns.getAll().prefix("instances/idgen/").keys(), [], "both deregistered");
  });

  it("fails at start, in plain words, when all 1,024 worker ids are taken", async () => {
    const keys = Array.from({ length: 1024 }, (_, id) => `idgen/workers/${String(id).padStart(4, "0")}`);
    for (let i = 0; i < keys.length; i += 128) {
      await conn.ns
        .if("idgen/workers/", "Create", "==", 0)
        .then(...keys.slice(i, i + 128).map((k) => conn.ns.put(k).value("{}")))
        .commit();
    }
    const { code, output } = await runToExit(MAIN, env);
    assert.equal(code, 1);
    assert.match(output, /parley: failed to start: all 1024 Snowflake worker ids are taken by live idgen instances/);
    await conn.ns.delete().prefix("idgen/workers/").exec();
  });

  it("retries an unreachable etcd at start, then gives up with a clear error instead of crash-looping", async () => {
    const { code, output } = await runToExit(MAIN, { ...env, ETCD_ENDPOINTS: "http://127.0.0.1:1", DISCOVERY_START_TIMEOUT_MS: "2000" });
    assert.equal(code, 1);
    assert.match(output, /claiming a worker id: etcd unreachable; retrying in \d+ ms/);
    assert.match(output, /parley: failed to start: etcd at 127\.0\.0\.1:1 is unreachable \(claiming a worker id; gave up after 2000 ms of retries\)/);
  });

  it("refuses ids with UNAVAILABLE while etcd is down past the fencing window, and serves again once etcd is back", async () => {
    const etcd = await startEtcd();
    try {
      const p = await startProcess(MAIN, { ...env, ETCD_ENDPOINTS: etcd.url }, "idgen listening");
      processes.push(p);
      const client = idgenAt(p);
      const before: Harvest = { ids: [], refused: 0 };
      await take(client, before);
      assert.equal(before.refused, 0);

      await etcd.stop("SIGKILL");
      await sleep(TTL_SECONDS * 1000); // past ttl - margin (2 s) since the last keep-alive
      const err = await client.nextIds({ count: 1 }).then(
        () => assert.fail("served ids without a valid lease"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, Code.Unavailable);
      assert.match(err.rawMessage, /holds no valid worker id right now/);
      const health = createClient(Health, createGrpcTransport({ baseUrl: p.url }));
      assert.equal((await health.check({ service: IdGenService.typeName })).status, ServingStatus.NOT_SERVING);

      await etcd.start();
      const after: Harvest = { ids: [], refused: 0 };
      const deadline = Date.now() + 20_000;
      while (after.ids.length === 0 && Date.now() < deadline) await take(client, after);
      assert.ok(after.ids.length > 0, "serves again once etcd is back");
      assert.ok(after.ids[0]! > before.ids.at(-1)!);
      assert.equal((await health.check({ service: IdGenService.typeName })).status, ServingStatus.SERVING);
      assert.equal(await p.stop("SIGTERM"), 0);
    } finally {
      await etcd.close();
    }
  });
});
