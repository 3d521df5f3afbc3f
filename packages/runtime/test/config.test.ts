import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, env, loadEnv } from "../src/config.js";

const schema = {
  PORT: env.port(8080),
  WORKERS: env.int(1, 16),
  MODE: env.oneOf(["fast", "safe"] as const, "safe"),
  VERBOSE: env.bool(false),
  UPSTREAM: env.address("127.0.0.1:7001"),
};

describe("configuration from the environment", () => {
  it("applies defaults and parses each kind of value", () => {
    const config = loadEnv(schema, { WORKERS: "4", VERBOSE: "true", UPSTREAM: "account:7001" });
    assert.deepEqual({ ...config }, { PORT: 8080, WORKERS: 4, MODE: "safe", VERBOSE: true, UPSTREAM: "http://account:7001" });
    assert.ok(Object.isFrozen(config));
  });

  it("treats an empty variable as unset", () => {
    assert.equal(loadEnv(schema, { WORKERS: "2", PORT: "" }).PORT, 8080);
  });

  it("reports every bad variable at once, each with its name, the rule and the value", () => {
    assert.throws(
      () => loadEnv(schema, { PORT: "80a", MODE: "turbo", VERBOSE: "yes", UPSTREAM: "ftp://x" }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems, [
          'PORT: must be a whole number from 0 to 65535 (got "80a")',
          "WORKERS: is required",
          'MODE: must be one of fast, safe (got "turbo")',
          'VERBOSE: must be "true" or "false" (got "yes")',
          'UPSTREAM: must be host:port or an http:// URL (got "ftp://x")',
        ]);
        return true;
      },
    );
  });

  it("refuses numbers outside their range", () => {
    assert.throws(() => loadEnv(schema, { WORKERS: "17" }), /WORKERS: must be a whole number from 1 to 16 \(got "17"\)/);
    assert.throws(() => loadEnv(schema, { WORKERS: "1", PORT: "65536" }), /PORT/);
  });

  it("accepts http URLs and host:port for addresses, and nothing else", () => {
    assert.equal(loadEnv(schema, { WORKERS: "1", UPSTREAM: "https://chat.internal:8443/ignored" }).UPSTREAM, "https://chat.internal:8443");
    assert.equal(loadEnv(schema, { WORKERS: "1", UPSTREAM: "[::1]:7001" }).UPSTREAM, "http://[::1]:7001");
    for (const bad of ["localhost", "host:99999", "two words:1"]) {
      assert.throws(() => loadEnv(schema, { WORKERS: "1", UPSTREAM: bad }), /UPSTREAM/);
    }
  });
});
