import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@parley/runtime";
import { loadIdgenConfig } from "../src/config.js";

describe("idgen config", () => {
  it("uses the documented defaults when nothing is set", () => {
    const { plane, ...config } = loadIdgenConfig({});
    assert.deepEqual([plane.trustFile, plane.keyFile, plane.tls, plane.allowPlaintext], [undefined, undefined, undefined, false]);
    assert.deepEqual(config, {
      workerId: 0,
      leaseWorkerId: false,
      registry: { etcd: undefined, startTimeoutMs: 60_000, zone: "" },
      advertiseAddress: undefined,
      maxClockBackwardMs: 200,
      host: "127.0.0.1",
      port: 7002,
      logLevel: "info",
      shutdownGraceMs: 10_000,
      readiness: { intervalMs: 5_000, timeoutMs: 2_000 },
    });
  });

  it("returns a frozen object", () => {
    assert.ok(Object.isFrozen(loadIdgenConfig({})));
  });

  it("reports every bad variable at once", () => {
    assert.throws(
      () => loadIdgenConfig({ IDGEN_WORKER_ID: "1024", IDGEN_MAX_CLOCK_BACKWARD_MS: "-1" }),
      (err) => err instanceof ConfigError && err.problems.length === 2 && err.problems[0]!.startsWith("IDGEN_WORKER_ID"),
    );
  });

  it("leases the worker id from etcd when ETCD_ENDPOINTS is set and IDGEN_WORKER_ID is not", () => {
    const config = loadIdgenConfig({ ETCD_ENDPOINTS: "http://127.0.0.1:2379", IDGEN_ADVERTISE_ADDRESS: "10.0.0.7:7002" });
    assert.equal(config.leaseWorkerId, true);
    assert.equal(config.advertiseAddress, "10.0.0.7:7002");
    assert.deepEqual(config.registry.etcd, { endpoints: ["http://127.0.0.1:2379"], prefix: "/parley/", leaseTtlSeconds: 10, timeoutMs: 5000 });
  });

  it("refuses IDGEN_WORKER_ID together with ETCD_ENDPOINTS, which could share a leased id", () => {
    assert.throws(
      () => loadIdgenConfig({ ETCD_ENDPOINTS: "http://127.0.0.1:2379", IDGEN_WORKER_ID: "3" }),
      (err) => err instanceof ConfigError && /must not be set together with ETCD_ENDPOINTS/.test(err.message),
    );
  });
});
