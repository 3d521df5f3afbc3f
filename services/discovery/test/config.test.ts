import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@parley/runtime";
import { loadDiscoveryConfig } from "../src/config.js";

describe("discovery config", () => {
  it("uses the documented defaults, and the in-memory registry without ETCD_ENDPOINTS", () => {
    assert.deepEqual(loadDiscoveryConfig({}), {
      host: "127.0.0.1",
      port: 7007,
      advertiseAddress: undefined,
      registry: { etcd: undefined, startTimeoutMs: 60_000, zone: "" },
      retryAfterMs: 5000,
      logLevel: "info",
      shutdownGraceMs: 10_000,
    });
  });

  it("reads comma-separated etcd endpoints with the lease TTL, prefix and timeout", () => {
    const config = loadDiscoveryConfig({
      ETCD_ENDPOINTS: "http://10.0.0.5:2379, http://10.0.0.6:2379",
      DISCOVERY_LEASE_TTL_SECONDS: "15",
      ETCD_PREFIX: "/staging/",
      ETCD_TIMEOUT_MS: "2000",
      ZONE: "eu-west-1a",
    });
    assert.deepEqual(config.registry, {
      etcd: { endpoints: ["http://10.0.0.5:2379", "http://10.0.0.6:2379"], prefix: "/staging/", leaseTtlSeconds: 15, timeoutMs: 2000 },
      startTimeoutMs: 60_000,
      zone: "eu-west-1a",
    });
    assert.ok(Object.isFrozen(config.registry.etcd));
  });

  it("reports every bad variable at once", () => {
    assert.throws(
      () =>
        loadDiscoveryConfig({
          ETCD_ENDPOINTS: "10.0.0.5:2379",
          DISCOVERY_LEASE_TTL_SECONDS: "1",
          ETCD_PREFIX: "parley",
          ZONE: "eu west",
          DISCOVERY_ADVERTISE_ADDRESS: "10.0.0.1",
        }),
      (err) =>
        err instanceof ConfigError &&
        err.problems.length === 5 &&
        err.problems.some((p) => p.startsWith("ETCD_ENDPOINTS: must be comma-separated http:// or https:// URLs")) &&
        err.problems.some((p) => p.startsWith("DISCOVERY_LEASE_TTL_SECONDS: must be a whole number from 2 to 300")),
    );
  });

  it("refuses an endpoint without a port or with credentials", () => {
    for (const value of ["http://etcd", "http://user:pw@etcd:2379", "ftp://etcd:2379", ","]) {
      assert.throws(() => loadDiscoveryConfig({ ETCD_ENDPOINTS: value }), ConfigError, value);
    }
  });
});
