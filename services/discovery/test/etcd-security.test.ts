import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connectEtcd, EtcdRegistry } from "@parley/mesh";
import { testCredentials, uniqueEtcdPrefix } from "@parley/testkit";
import { PASSWORD, secureEtcd, stopSecureEtcd, USER } from "../../../packages/mesh/test/secure-etcd.js";
import { dropConnection } from "../../../packages/mesh/test/support.js";
import { runToExit, startProcess } from "../../../test/support/process.js";

after(stopSecureEtcd);

describe("a discovery process configured with ETCD_CA_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME and ETCD_PASSWORD_FILE", () => {
  const MAIN = "services/discovery/src/main.ts";
  const credentials = testCredentials();
  after(() => credentials.close());

  async function processEnv(prefix: string, passwordFile: string): Promise<Record<string, string>> {
    const s = await secureEtcd();
    return {
      SERVICE_TRUST_FILE: credentials.keys.trustFile,
      DISCOVERY_PORT: "0",
      ETCD_ENDPOINTS: s.etcd.url,
      ETCD_PREFIX: prefix,
      ETCD_CA_FILE: s.certs.caFile,
      ETCD_CERT_FILE: s.client.certFile,
      ETCD_KEY_FILE: s.client.keyFile,
      ETCD_USERNAME: USER,
      ETCD_PASSWORD_FILE: passwordFile,
    };
  }

  it("registers itself in an etcd that requires TLS, a client certificate and a password", async () => {
    const s = await secureEtcd();
    const settings = s.settings("secure-process");
    const proc = await startProcess(MAIN, await processEnv(settings.prefix, s.passwordFile), "discovery listening");
    const conn = connectEtcd(settings);
    try {
      const registry = new EtcdRegistry(conn);
      const [self] = await registry.list("discovery");
      assert.equal(self?.address, new URL(proc.url).host);
      await registry.close();
      assert.equal(await proc.stop("SIGTERM"), 0);
      assert.doesNotMatch(proc.output(), new RegExp(PASSWORD));
    } finally {
      await proc.stop("SIGKILL");
      await dropConnection(conn);
    }
  });

  it("exits at once when etcd refuses its password, naming the endpoint and neither password", async () => {
    const s = await secureEtcd();
    const wrong = "a password etcd does not know";
    const file = join(s.dir, "wrong-password");
    writeFileSync(file, wrong);
    // runToExit kills it after 30 s: a process retrying for DISCOVERY_START_TIMEOUT_MS (60 s) would fail here.
    const { code, output } = await runToExit(MAIN, await processEnv(uniqueEtcdPrefix("refused-process"), file));
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`etcd at ${s.host} refused this process's credentials`));
    assert.ok(!output.includes(wrong) && !output.includes(PASSWORD), output);
  });
});
