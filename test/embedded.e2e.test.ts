import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runAccountJourney } from "./support/account-scenario.js";
import { callApi } from "./support/http-api.js";
import { runToExit, startProcess, type ServiceProcess } from "./support/process.js";

const MAIN = "apps/standalone/src/main.ts";

describe("embedded mode (npm start)", () => {
  let dataDir: string;
  let parley: ServiceProcess | undefined;
  const env = () => ({ DATA_DIR: dataDir, PORT: "0", ACCOUNT_SCRYPT_LOG_N: "10", LOG_LEVEL: "info" });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "parley-embedded-"));
  });
  after(async () => {
    await parley?.stop("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });

  it("serves the account journey on the public HTTP API", async () => {
    parley = await startProcess(MAIN, env(), "parley is running");
    await runAccountJourney(parley.url, "emb");
  });

  it("serves /healthz and Prometheus /metrics", async () => {
    const health = await fetch(`${parley!.url}/healthz`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`${parley!.url}/metrics`)).text();
    assert.match(metrics, /parley_rpc_handled_total\{service="parley.account.v1.AccountService",method="SignUp",code="ok"\}/);
    assert.match(metrics, /process_resident_memory_bytes/);
  });

  it("does not expose internal services on the public port", async () => {
    const res = await fetch(`${parley!.url}/parley.account.v1.AccountInternalService/VerifyToken`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ accessToken: "x" }),
    });
    assert.equal(res.status, 404);
  });

  it("refuses a request body above the configured maximum", async () => {
    const res = await callApi(parley!.url, "SignUp", { username: "big", password: "x".repeat(100_000) });
    assert.equal(res.body.code, "resource_exhausted");
  });

  it("stops cleanly on SIGTERM and keeps accounts and tokens across a restart", async () => {
    const login = await callApi(parley!.url, "LogIn", { username: "emb_alice", password: "correct horse battery", deviceName: "laptop" });
    const token = login.body.session.accessToken as string;
    assert.equal(await parley!.stop("SIGTERM"), 0);
    assert.match(parley!.output(), /"msg":"stopped"/);

    parley = await startProcess(MAIN, env(), "parley is running");
    const profile = await callApi(parley.url, "GetProfile", {}, token);
    assert.equal(profile.status, 200, "the token signed before the restart still verifies");
    assert.equal(profile.body.profile.displayName, "Alice A.");
    const again = await callApi(parley.url, "LogIn", { username: "emb_alice", password: "correct horse battery", deviceName: "laptop" });
    assert.equal(again.status, 200);
  });

  it("refuses invalid configuration with a message naming each bad variable", async () => {
    const { code, output } = await runToExit(MAIN, { DATA_DIR: dataDir, PORT: "http", IDGEN_WORKER_ID: "1024", ACCESS_TOKEN_TTL_SECONDS: "soon" });
    assert.equal(code, 1);
    assert.match(output, /PORT: must be a whole number from 0 to 65535 \(got "http"\)/);
    assert.match(output, /IDGEN_WORKER_ID: must be a whole number from 0 to 1023/);
    assert.match(output, /ACCESS_TOKEN_TTL_SECONDS/);
  });
});
