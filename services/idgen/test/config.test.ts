import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@parley/runtime";
import { loadIdgenConfig } from "../src/config.js";

describe("idgen config", () => {
  it("uses the documented defaults when nothing is set", () => {
    assert.deepEqual(loadIdgenConfig({}), {
      workerId: 0,
      maxClockBackwardMs: 200,
      host: "127.0.0.1",
      port: 7002,
      logLevel: "info",
      shutdownGraceMs: 10_000,
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
});
