import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@parley/runtime";
import { loadDiscoveryConfig } from "../src/config.js";

// The etcd variables themselves are tested with the mesh (packages/mesh/test/config.test.ts).
describe("discovery config", () => {
  it("uses the documented defaults, and the in-memory registry without ETCD_ENDPOINTS", () => {
    const { plane, ...config } = loadDiscoveryConfig({});
    assert.equal(plane.trustFile, undefined);
    assert.deepEqual(config, {
      host: "127.0.0.1",
      port: 7007,
      advertiseAddress: undefined,
      registry: { etcd: undefined, startTimeoutMs: 60_000, zone: "" },
      retryAfterMs: 5000,
      logLevel: "info",
      shutdownGraceMs: 10_000,
      readiness: { intervalMs: 5_000, timeoutMs: 2_000 },
    });
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
});
