import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@parley/runtime";
import { startEtcd, uniqueEtcdPrefix, until, type PrivateEtcd } from "@parley/testkit";
import { connectEtcd, type EtcdConnection } from "../src/adapters/etcd-client.js";
import { EtcdRegistry } from "../src/adapters/etcd-registry.js";
import { EtcdWorkerIdLease } from "../src/adapters/etcd-worker-ids.js";
import { RegistryUnavailable } from "../src/errors.js";
import { LeaseClock } from "../src/lease-clock.js";
import { withStartRetry } from "../src/wiring.js";
import { ids, instance } from "./support.js";

const TTL_SECONDS = 2;
const WINDOW_MS = new LeaseClock(TTL_SECONDS).windowMs; // 1 s: ttl - margin

/** A logger that records warn() calls, for the retry messages. */
function recordingLogger(records: { attempt: number; delayMs: number; msg: string }[]): Logger {
  const logger = {
    warn: (obj: { attempt: number; delayMs: number }, msg: string) => records.push({ ...obj, msg }),
    info: () => undefined,
    error: () => undefined,
  };
  return logger as unknown as Logger;
}

/** True once `call` succeeds: etcd3 needs a moment to reconnect after a restart. */
async function succeeds(call: () => Promise<unknown>): Promise<boolean> {
  return call().then(
    () => true,
    () => false,
  );
}

describe("discovery when etcd fails (private etcd)", () => {
  let etcd: PrivateEtcd;
  const connections: EtcdConnection[] = [];
  const connect = (name: string) => {
    const conn = connectEtcd({ endpoints: [etcd.url], prefix: uniqueEtcdPrefix(name), leaseTtlSeconds: TTL_SECONDS, timeoutMs: 1000 });
    connections.push(conn);
    return conn;
  };
  before(async () => {
    etcd = await startEtcd();
  });
  /** Everything holding a lease, closed after each test however it ended: live keep-alives would keep the test process from exiting. */
  const resources: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(resource: T): T => {
    resources.push(resource);
    return resource;
  };
  afterEach(async () => {
    if (!etcd.running) await etcd.start();
    for (const resource of resources.splice(0)) await resource.close().catch(() => undefined);
  });
  after(async () => {
    for (const conn of connections) conn.close();
    await etcd?.close();
  });

  it("refuses at start with RegistryUnavailable naming the endpoint when etcd is down", async () => {
    await etcd.stop();
    const conn = connect("down-at-start");
    const startedAt = Date.now();
    const host = new URL(etcd.url).host;
    const named = (err: unknown) => err instanceof RegistryUnavailable && err.message.startsWith(`etcd at ${host} is unreachable`);
    await assert.rejects(track(new EtcdRegistry(conn)).register(instance({ service: "chat", instanceId: "early" })), named);
    await assert.rejects(track(new EtcdWorkerIdLease(conn, "early")).claim(), named);
    await assert.rejects(track(new EtcdRegistry(conn)).watch("chat"), named);
    assert.ok(Date.now() - startedAt < 10_000, "fails within the call deadlines");
  });

  it("retries a start with capped, jittered backoff and succeeds once etcd is up", async () => {
    await etcd.stop();
    const records: { attempt: number; delayMs: number; msg: string }[] = [];
    const lease = track(new EtcdWorkerIdLease(connect("retrying-start"), "late"));
    const settings = { etcd: undefined, startTimeoutMs: 60_000, zone: "" };
    const claimed = withStartRetry("claiming a worker id", settings, recordingLogger(records), () => lease.claim());
    await until(() => records.length >= 3, "three retries", { timeoutMs: 20_000 });
    await etcd.start();
    assert.equal(await claimed, 0);
    records.forEach((r, i) => {
      const ceiling = Math.min(10_000, 250 * 2 ** i);
      assert.ok(r.delayMs >= ceiling / 2 && r.delayMs <= ceiling, `retry ${i + 1} waited ${r.delayMs} ms`);
      assert.match(r.msg, /^claiming a worker id: etcd unreachable; retrying in \d+ ms$/);
    });
    await lease.close();
  });

  it("gives up after the start timeout, saying for how long it tried", async () => {
    await etcd.stop();
    const settings = { etcd: undefined, startTimeoutMs: 1500, zone: "" };
    const lease = track(new EtcdWorkerIdLease(connect("give-up"), "never"));
    await assert.rejects(
      withStartRetry("claiming a worker id", settings, recordingLogger([]), () => lease.claim()),
      (err) => err instanceof RegistryUnavailable && /claiming a worker id; gave up after 1500 ms of retries/.test(err.message),
    );
  });

  it("keeps the last known set in a watch while etcd is down, then catches up", async () => {
    const conn = connect("watch-down");
    const registry = track(new EtcdRegistry(conn));
    const watcher = track(new EtcdRegistry(conn));
    // Whatever fails, every lease is released: its keep-alives would otherwise hold the test process open.
    try {
      const a = await registry.register(instance({ service: "chat", instanceId: "a" }));
      const b = await registry.register(instance({ service: "chat", instanceId: "b" }));
      const watch = await watcher.watch("chat");
      assert.deepEqual(ids(watch.current()), ["a", "b"]);

      await etcd.stop("SIGKILL");
      await until(() => !watch.connected, "the watch to notice", { timeoutMs: 15_000 });
      await sleep(TTL_SECONDS * 1000 + 500);
      assert.deepEqual(ids(watch.current()), ["a", "b"], "the last known set, not an empty one");

      await etcd.start();
      await until(() => succeeds(() => b.close()), "b to deregister", { timeoutMs: 15_000 });
      await until(() => ids(watch.current()).join() === "a", "the watch to see b leave", { timeoutMs: 15_000 });
      await until(() => watch.connected, "the watch to report itself connected", { timeoutMs: 15_000 });
      await a.close();
    } finally {
      await watcher.close();
      await registry.close();
    }
  });

  it("fences the worker id before its lease could expire while etcd is down, claims none, and resumes after", async () => {
    const conn = connect("fence");
    const lease = track(new EtcdWorkerIdLease(conn, "fenced"));
    const workerId = await lease.claim();
    await sleep(700); // a few keep-alives
    const stoppedAt = performance.now();
    await etcd.stop("SIGKILL");
    await until(() => lease.current() === undefined, "the id to be fenced", { timeoutMs: 5000 });
    const fencedAfterMs = performance.now() - stoppedAt;
    // The last confirmed keep-alive was sent before the stop; etcd cannot expire the lease before ttl after it.
    assert.ok(fencedAfterMs <= WINDOW_MS + 100, `fenced ${Math.round(fencedAfterMs)} ms after etcd stopped`);

    await assert.rejects(track(new EtcdWorkerIdLease(conn, "newcomer")).claim(), RegistryUnavailable, "no claim while etcd is down");
    await sleep(TTL_SECONDS * 1000);
    assert.equal(lease.current(), undefined, "still fenced");

    // etcd keeps leases across a restart (and refreshes them), so the id comes back after a check.
    await etcd.start();
    await until(() => lease.current() === workerId, "the same id to be served again", { timeoutMs: 15_000 });
    await lease.close();
  });

  it("keeps registrations through an etcd restart: the lease survives and keep-alives resume", async () => {
    const conn = connect("restart");
    const registry = track(new EtcdRegistry(conn));
    await registry.register(instance({ service: "presence", instanceId: "stays" }));
    await etcd.restart();
    await sleep(TTL_SECONDS * 2000); // two TTLs: gone by now unless kept alive
    let listed: string[] = [];
    await until(() => succeeds(async () => (listed = ids(await registry.list("presence")))), "a list to succeed", { timeoutMs: 15_000 });
    assert.deepEqual(listed, ["stays"]);
    await registry.close();
  });

  it("registers again, resyncs watches and claims a worker id again after etcd lost its data", async () => {
    const conn = connect("wiped");
    const registry = track(new EtcdRegistry(conn));
    await registry.register(instance({ service: "account", instanceId: "phoenix" }));
    const watch = await track(new EtcdRegistry(conn)).watch("account");
    const lease = track(new EtcdWorkerIdLease(conn, "phoenix"));
    await lease.claim();

    await etcd.stop();
    await etcd.wipe();
    await etcd.start();
    await until(() => succeeds(async () => assert.deepEqual(ids(await registry.list("account")), ["phoenix"])), "the registration to be written again", {
      timeoutMs: 20_000,
    });
    await until(() => ids(watch.current()).join() === "phoenix" && watch.connected, "the watch to resync", { timeoutMs: 20_000 });
    // The lease may still report its old id for a moment after a quick restart (it has not yet
    // learnt the key is gone), so what is awaited is the claim back in etcd.
    await until(
      () =>
        succeeds(async () => {
          const id = lease.current();
          assert.notEqual(id, undefined);
          assert.deepEqual(await conn.ns.getAll().prefix("idgen/workers/").keys(), [`idgen/workers/${String(id).padStart(4, "0")}`]);
        }),
      "a worker id to be claimed again, its key back in etcd",
      { timeoutMs: 20_000 },
    );
    await lease.close();
    await watch.close();
    await registry.close();
  });
});
