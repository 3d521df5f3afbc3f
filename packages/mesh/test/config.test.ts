import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { ConfigError, internalPlaneEnv, loadEnv } from "@parley/runtime";
import { etcdEnv, registrySettings, type RegistrySettings } from "../src/config.js";

/** The registry settings from `environment`, read as every process's config loader reads them. */
function loadRegistrySettings(environment: NodeJS.ProcessEnv): RegistrySettings {
  return registrySettings(loadEnv({ ...etcdEnv, ...internalPlaneEnv }, environment));
}

describe("registry settings", () => {
  it("uses the in-memory registry without ETCD_ENDPOINTS, and the documented defaults", () => {
    assert.deepEqual(loadRegistrySettings({}), { etcd: undefined, startTimeoutMs: 60_000, zone: "" });
  });

  it("reads comma-separated etcd endpoints with the lease TTL, prefix and timeout", () => {
    const settings = loadRegistrySettings({
      ETCD_ENDPOINTS: "http://10.0.0.5:2379, http://10.0.0.6:2379",
      DISCOVERY_LEASE_TTL_SECONDS: "15",
      ETCD_PREFIX: "/staging/",
      ETCD_TIMEOUT_MS: "2000",
      ZONE: "eu-west-1a",
    });
    assert.deepEqual(settings, {
      etcd: { endpoints: ["http://10.0.0.5:2379", "http://10.0.0.6:2379"], prefix: "/staging/", leaseTtlSeconds: 15, timeoutMs: 2000 },
      startTimeoutMs: 60_000,
      zone: "eu-west-1a",
    });
    assert.ok(Object.isFrozen(settings.etcd));
  });

  it("refuses an endpoint without a port or with credentials", () => {
    for (const value of ["http://etcd", "http://user:pw@etcd:2379", "ftp://etcd:2379", ","]) {
      assert.throws(() => loadRegistrySettings({ ETCD_ENDPOINTS: value }), ConfigError, value);
    }
  });

  describe("etcd TLS and credentials", () => {
    const secure = { ETCD_ENDPOINTS: "https://etcd-1.internal:2379,https://etcd-2.internal:2379", ETCD_CA_FILE: "/pki/ca.pem" };
    const problems = (vars: Record<string, string>): readonly string[] => {
      try {
        loadRegistrySettings(vars);
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      assert.fail("expected a ConfigError");
    };

    it("reads the CA, the client certificate and the user, keeping the password out of the settings' data", () => {
      const { etcd } = loadRegistrySettings({
        ...secure,
        ETCD_CERT_FILE: "/pki/parley.pem",
        ETCD_KEY_FILE: "/pki/parley.key",
        ETCD_USERNAME: "parley",
        ETCD_PASSWORD: "hunter2-but-longer",
      });
      assert.deepEqual(etcd?.tls, { caFile: "/pki/ca.pem", client: { certFile: "/pki/parley.pem", keyFile: "/pki/parley.key" } });
      assert.equal(etcd?.auth?.username, "parley");
      assert.equal(etcd?.auth?.password(), "hunter2-but-longer");
      assert.doesNotMatch(JSON.stringify(etcd), /hunter2/);
      assert.doesNotMatch(inspect(etcd, { depth: 10 }), /hunter2/);
    });

    it("verifies https:// endpoints against the system's CAs when ETCD_CA_FILE is unset", () => {
      const { etcd } = loadRegistrySettings({ ETCD_ENDPOINTS: "https://etcd.example.com:2379" });
      assert.deepEqual(etcd?.tls, { caFile: undefined, client: undefined });
    });

    it("refuses a certificate without its key, a user without a password, and a password without a user", () => {
      assert.deepEqual(problems({ ...secure, ETCD_CERT_FILE: "/pki/parley.pem" }), [
        "ETCD_CERT_FILE and ETCD_KEY_FILE: set both (a client certificate and its key) or neither",
      ]);
      assert.deepEqual(problems({ ...secure, ETCD_USERNAME: "parley" }), ["ETCD_USERNAME: needs ETCD_PASSWORD_FILE (or ETCD_PASSWORD)"]);
      assert.deepEqual(problems({ ...secure, ETCD_PASSWORD_FILE: "/secrets/etcd" }), ["ETCD_PASSWORD_FILE: needs ETCD_USERNAME"]);
    });

    it("takes exactly one of ETCD_PASSWORD and ETCD_PASSWORD_FILE", () => {
      assert.deepEqual(problems({ ...secure, ETCD_USERNAME: "parley", ETCD_PASSWORD: "hunter2", ETCD_PASSWORD_FILE: "/secrets/etcd" }), [
        "ETCD_PASSWORD and ETCD_PASSWORD_FILE: set one of them, not both",
      ]);
    });

    it("refuses TLS files with http:// endpoints, and a mix of http:// and https://", () => {
      assert.match(
        problems({ ETCD_ENDPOINTS: "http://10.0.0.5:2379", ETCD_CA_FILE: "/pki/ca.pem" })[0] ?? "",
        /^ETCD_CA_FILE: only used with https:\/\/ ETCD_ENDPOINTS/,
      );
      assert.deepEqual(problems({ ETCD_ENDPOINTS: "https://10.0.0.5:2379,http://10.0.0.6:2379" }), [
        "ETCD_ENDPOINTS: must be all https:// or all http://, not a mix",
      ]);
    });

    it("refuses to send a password in cleartext beyond loopback unless ALLOW_PLAINTEXT says the network is encrypted", () => {
      const vars = { ETCD_ENDPOINTS: "http://10.0.0.5:2379", ETCD_USERNAME: "parley", ETCD_PASSWORD_FILE: "/secrets/etcd" };
      assert.match(problems(vars)[0] ?? "", /^ETCD_PASSWORD_FILE: would travel in cleartext to 10\.0\.0\.5:2379; use https:\/\/ endpoints/);
      assert.equal(loadRegistrySettings({ ...vars, ALLOW_PLAINTEXT: "true" }).etcd?.auth?.username, "parley");
      assert.equal(loadRegistrySettings({ ...vars, ETCD_ENDPOINTS: "http://127.0.0.1:2379" }).etcd?.auth?.username, "parley");
    });

    it("refuses etcd credentials without ETCD_ENDPOINTS rather than ignoring them", () => {
      assert.deepEqual(problems({ ETCD_USERNAME: "parley", ETCD_PASSWORD: "hunter2" }), [
        "ETCD_USERNAME, ETCD_PASSWORD: need ETCD_ENDPOINTS (without it this process uses no etcd)",
      ]);
    });
  });
});
