import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { ConfigError, env, loadEnv, redactUrlCredentials } from "../src/config.js";
import { databaseEnv, databaseSettings } from "../src/database.js";

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

  describe("secrets in error messages", () => {
    const problemsOf = (run: () => unknown): readonly string[] => {
      try {
        run();
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      assert.fail("expected a ConfigError");
    };

    // Regression: a malformed DATABASE_URL was quoted back whole, password included, on stderr and in the log.
    it("never repeats the value of a variable marked secret, such as DATABASE_URL", () => {
      const problems = problemsOf(() => loadEnv({ DATABASE_URL: env.postgresUrl() }, { DATABASE_URL: "mysql://parley:hunter2@db.internal/parley" }));
      assert.deepEqual(problems, ["DATABASE_URL: must be a postgres:// URL (the value is secret and not shown)"]);
    });

    it("never repeats a value whose name says it is secret, even without the mark", () => {
      const schema = { SMS_API_TOKEN: z.string().min(40, { error: "must be at least 40 characters" }), ETCD_PASSWORD: env.int(1, 2) };
      const problems = problemsOf(() => loadEnv(schema, { SMS_API_TOKEN: "tok-hunter2", ETCD_PASSWORD: "hunter2" }));
      assert.equal(problems.length, 2);
      for (const problem of problems) assert.doesNotMatch(problem, /hunter2/);
    });

    it("masks credentials inside the URLs it repeats", () => {
      const problems = problemsOf(() => loadEnv({ UPSTREAM: env.address() }, { UPSTREAM: "ftp://svc:hunter2@relay:21" }));
      assert.deepEqual(problems, ['UPSTREAM: must be host:port or an http:// URL (got "ftp://svc:***@relay:21")']);
    });

    it("masks passwords, lone user tokens and password parameters in URLs, and nothing else", () => {
      assert.equal(redactUrlCredentials("postgres://parley:p@ss@db:5432/x"), "postgres://parley:***@db:5432/x");
      assert.equal(redactUrlCredentials("postgres://parley:s3cret@db:5432/x?sslmode=verify-full"), "postgres://parley:***@db:5432/x?sslmode=verify-full");
      assert.equal(redactUrlCredentials("https://ghp_abc123@github.com/x"), "https://***@github.com/x");
      assert.equal(
        redactUrlCredentials("postgres://db/x?user=parley&password=s3cret&sslmode=require"),
        "postgres://db/x?user=parley&password=***&sslmode=require",
      );
      assert.equal(redactUrlCredentials("http://a:1@h1:2379,http://b:2@h2:2379"), "http://a:***@h1:2379,http://b:***@h2:2379");
      assert.equal(redactUrlCredentials("smtp://relay:587/?from=a@b.example"), "smtp://relay:587/?from=a@b.example");
      assert.equal(redactUrlCredentials("10.0.0.1:7001"), "10.0.0.1:7001");
    });
  });

  it("refuses DATABASE_PASSWORD_FILE without DATABASE_URL: the embedded store has no password", () => {
    assert.throws(
      () => databaseSettings(loadEnv(databaseEnv, { DATABASE_PASSWORD_FILE: "/run/secrets/db" })),
      (err: unknown) => err instanceof ConfigError && err.problems[0] === "DATABASE_PASSWORD_FILE: needs DATABASE_URL (the embedded SQLite has no password)",
    );
    assert.deepEqual(databaseSettings(loadEnv(databaseEnv, {})), { url: undefined, password: undefined, synchronous: "normal" });
    assert.equal(databaseSettings(loadEnv(databaseEnv, { SQLITE_SYNCHRONOUS: "full" })).synchronous, "full");
    assert.throws(
      () => loadEnv(databaseEnv, { SQLITE_SYNCHRONOUS: "off" }),
      (err: unknown) => err instanceof ConfigError && /SQLITE_SYNCHRONOUS: must be one of full, normal/.test(err.problems[0]!),
    );
  });
});
