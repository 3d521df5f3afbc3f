import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createLogger, secretFromFile } from "@parley/runtime";
import { startEtcd, uniqueEtcdPrefix, type PrivateEtcd } from "@parley/testkit";
import { connectEtcd, type EtcdConnection, type EtcdSettings } from "../src/adapters/etcd-client.js";
import { EtcdRegistry } from "../src/adapters/etcd-registry.js";
import { RegistryAccessDenied, RegistryUnavailable } from "../src/errors.js";
import { withStartRetry } from "../src/wiring.js";
import { describeRegistryContract } from "./registry-contract.js";
import { GRANTED_PREFIX, PASSWORD, secureEtcd, stopSecureEtcd, USER } from "./secure-etcd.js";
import { dropConnection, instance } from "./support.js";
import { describeWorkerIdContract, etcdWorkerIdFixture } from "./worker-id-contract.js";

after(stopSecureEtcd);

const CONTRACT = "etcd over TLS with a client certificate and a password";

describeRegistryContract(CONTRACT, async () => {
  const conn = connectEtcd((await secureEtcd()).settings("secure-registry"));
  return { newRegistry: () => new EtcdRegistry(conn), cleanup: () => dropConnection(conn) };
});

describeWorkerIdContract(CONTRACT, async () => etcdWorkerIdFixture(connectEtcd((await secureEtcd()).settings("secure-worker-ids")), "secure-contract-test"));

describe(`${CONTRACT}: what it refuses`, () => {
  const opened: EtcdConnection[] = [];
  const open = (settings: EtcdSettings) => {
    const conn = connectEtcd(settings);
    opened.push(conn);
    return conn;
  };
  after(async () => {
    for (const conn of opened) await dropConnection(conn);
  });

  /** Registers once and returns the error, checking what every refusal must say and must not say. */
  async function refusal(settings: EtcdSettings, secrets: readonly string[] = [PASSWORD]): Promise<RegistryUnavailable> {
    const { host } = await secureEtcd();
    const registry = new EtcdRegistry(open(settings));
    try {
      await registry.register(instance({ service: "chat", instanceId: "refused" }));
    } catch (err) {
      assert.ok(err instanceof RegistryUnavailable, String(err));
      assert.match(err.message, new RegExp(`^etcd at ${host} `));
      for (const secret of secrets) assert.ok(!err.message.includes(secret), `the message shows a password: ${err.message}`);
      assert.doesNotMatch(err.message, /PRIVATE KEY/);
      return err;
    } finally {
      await registry.close();
    }
    assert.fail("etcd accepted the registration");
  }

  it("refuses a client that does not trust etcd's CA, and says the certificate did not verify", async () => {
    const s = await secureEtcd();
    const err = await refusal(s.settings("wrong-ca", { tls: { caFile: s.stranger.caFile, client: s.client } }));
    assert.match(err.message, /etcd's certificate did not verify: ETCD_CA_FILE must hold the CA that signed it/);
  });

  it("refuses a client that trusts only the system's CAs when etcd's certificate comes from a private CA", async () => {
    const s = await secureEtcd();
    const err = await refusal(s.settings("system-cas", { tls: { caFile: undefined, client: s.client } }));
    assert.match(err.message, /etcd's certificate did not verify/);
  });

  it("is refused by etcd without a client certificate, or with one from another CA, and says which variables to set", async () => {
    const s = await secureEtcd();
    for (const client of [undefined, { certFile: s.stranger.certFile, keyFile: s.stranger.keyFile }]) {
      const err = await refusal(s.settings("no-client-cert", { tls: { caFile: s.certs.caFile, client } }));
      assert.match(err.message, /etcd refused the TLS handshake: it wants a client certificate from a CA it trusts \(ETCD_CERT_FILE and ETCD_KEY_FILE\)/);
    }
  });

  it("is refused with RegistryAccessDenied for a wrong password, showing neither password", async () => {
    const s = await secureEtcd();
    const wrong = "not the password at all";
    const err = await refusal(s.settings("wrong-password", { auth: { username: USER, password: () => wrong } }), [PASSWORD, wrong]);
    assert.ok(err instanceof RegistryAccessDenied);
    assert.match(
      err.message,
      /refused this process's credentials \(granting a lease\): .*authentication failed, invalid user ID or password; check ETCD_USERNAME/,
    );
  });

  it("is refused with RegistryAccessDenied outside the prefix the user's role covers", async () => {
    const s = await secureEtcd();
    const err = await refusal(s.settings("outside", { prefix: "/elsewhere/" }));
    assert.ok(err instanceof RegistryAccessDenied);
    assert.match(err.message, /permission denied/);
  });

  it("stops the start naming the variable when a TLS file is missing or a key is not its certificate's", async () => {
    const s = await secureEtcd();
    assert.throws(
      () => connectEtcd(s.settings("missing-ca", { tls: { caFile: join(s.dir, "nothing.pem"), client: s.client } })),
      /^Error: ETCD_CA_FILE: cannot read .*nothing\.pem \(ENOENT\)$/,
    );
    const mismatched = { certFile: s.client.certFile, keyFile: s.stranger.keyFile };
    assert.throws(
      () => connectEtcd(s.settings("mismatch", { tls: { caFile: s.certs.caFile, client: mismatched } })),
      /^Error: ETCD_CERT_FILE and ETCD_KEY_FILE: not usable for TLS to etcd/,
    );
    const noPassword = { username: USER, password: secretFromFile("ETCD_PASSWORD_FILE", join(s.dir, "no-such-password")) };
    assert.throws(
      () => connectEtcd(s.settings("no-password-file", { auth: noPassword })),
      /^Error: ETCD_PASSWORD_FILE: cannot read .*no-such-password \(ENOENT\)$/,
    );
  });

  it("does not retry refused credentials at start: one attempt, then the error", async () => {
    const s = await secureEtcd();
    const registry = new EtcdRegistry(open(s.settings("no-retry", { auth: { username: USER, password: () => "wrong" } })));
    let attempts = 0;
    const settings = { etcd: undefined, startTimeoutMs: 60_000, zone: "" };
    await assert.rejects(
      withStartRetry("registering", settings, createLogger("test", "silent"), () => {
        attempts++;
        return registry.register(instance({ service: "chat", instanceId: "no-retry" }));
      }),
      RegistryAccessDenied,
    );
    assert.equal(attempts, 1);
    await registry.close();
  });

  it("signs in with the password in ETCD_PASSWORD_FILE again after a rotation, without a restart", async () => {
    const s = await secureEtcd();
    const dir = mkdtempSync(join(tmpdir(), "parley-etcd-rotation-"));
    const file = join(dir, "password");
    writeFileSync(file, PASSWORD);
    const rotating = new EtcdRegistry(open(s.settings("rotation", { auth: { username: USER, password: secretFromFile("ETCD_PASSWORD_FILE", file) } })));
    const stale = new EtcdRegistry(open(s.settings("rotation-stale", { auth: { username: USER, password: () => PASSWORD } })));
    try {
      await (await rotating.register(instance({ service: "chat", instanceId: "before" }))).close();
      await (await stale.register(instance({ service: "chat", instanceId: "before" }))).close();

      const rotated = "a brand new password";
      await s.etcd.setPassword(USER, rotated);
      writeFileSync(file, `${rotated}\n`);

      // etcd ended the user's sessions: a client holding the old password cannot sign in again...
      await assert.rejects(stale.list("chat"), RegistryAccessDenied);
      // ...while the one reading the file signs in with the new one.
      assert.deepEqual(await rotating.list("chat"), []);
    } finally {
      await s.etcd.setPassword(USER, PASSWORD);
      await rotating.close();
      await stale.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("etcd handing out JWT auth tokens", () => {
  let etcd: PrivateEtcd;
  before(async () => {
    etcd = await startEtcd({ rootPassword: "root-password-for-tests", jwtTokens: true });
    await etcd.addUser(USER, PASSWORD, GRANTED_PREFIX);
  });
  after(() => etcd?.close());

  // Regression: a JWT carries the auth store's revision, and etcd3 kept a token
  // etcd called stale ("revision of auth store is old") until it expired, so
  // adding any user (the first step of a password rotation) broke every call.
  it("keeps registering and listing after a change to etcd's users, by signing in again", async () => {
    const conn = connectEtcd({
      endpoints: [etcd.url],
      prefix: uniqueEtcdPrefix("jwt"),
      leaseTtlSeconds: 5,
      timeoutMs: 2_000,
      auth: { username: USER, password: () => PASSWORD },
    });
    const registry = new EtcdRegistry(conn);
    try {
      const registration = await registry.register(instance({ service: "chat", instanceId: "jwt-1" }));
      await etcd.addUser("parley_next", "the next password", GRANTED_PREFIX);
      await registration.update({ load: 3 });
      assert.deepEqual(
        (await registry.list("chat")).map((i) => i.load),
        [3],
      );
      await registration.close();
    } finally {
      await registry.close();
      await dropConnection(conn);
    }
  });
});
