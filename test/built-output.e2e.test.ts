import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DiscoveryService } from "@parley/contracts/parley/discovery/v1/discovery";
import { chatBothWays } from "./support/chat-scenarios.js";
import { EtcdMesh } from "./support/etcd-mesh.js";
import { buildOutput, built, REPO_ROOT, startProcess, type LauncherName, type ServiceProcess } from "./support/process.js";
import { httpWorld } from "./support/worlds.js";

/**
 * What the kernel says the process runs: its arguments and whether its
 * environment carries NODE_OPTIONS. A TypeScript loader can only come in
 * through one of those (--import, --loader, --require, or NODE_OPTIONS)
 * or through the code itself, which the scan of dist/ below rules out.
 */
async function commandOf(proc: ServiceProcess): Promise<{ args: string[]; nodeOptions: boolean }> {
  const pid = proc.child.pid!;
  const args = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter((a) => a !== "");
  const environ = (await readFile(`/proc/${pid}/environ`, "utf8")).split("\0");
  return { args, nodeOptions: environ.some((v) => v.startsWith("NODE_OPTIONS=")) };
}

async function assertPlainNode(proc: ServiceProcess, name: LauncherName, nodeFlags: readonly string[] = []): Promise<void> {
  const { args, nodeOptions } = await commandOf(proc);
  assert.deepEqual(args, [process.execPath, ...nodeFlags, "bin/parley.mjs", name]);
  assert.ok(!args.some((a) => /tsx|--import|--loader|--require|--conditions|strip-types/.test(a)), `no loader flag: ${args.join(" ")}`);
  assert.equal(nodeOptions, false, "no NODE_OPTIONS");
}

/** Every .js file under `dir`. */
async function jsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".js")).map((e) => join(e.parentPath, e.name));
}

describe("the built output, run with plain Node through bin/parley.mjs", () => {
  before(() => buildOutput());

  it("holds JavaScript only: no built module imports tsx or a .ts file", async () => {
    const dists = ["apps/standalone", "gateway", ...["account", "chat", "discovery", "idgen", "notify", "presence"].map((s) => `services/${s}`)]
      .concat(["client", "contracts", "mesh", "relational", "runtime", "wire"].map((p) => `packages/${p}`))
      .map((w) => join(REPO_ROOT, w, "dist"));
    let files = 0;
    for (const dist of dists) {
      for (const file of await jsFiles(dist)) {
        files++;
        const code = await readFile(file, "utf8");
        assert.doesNotMatch(code, /(?:from\s+|import\s*\(\s*)["'](?:tsx(?:\/[^"']*)?|[^"']*\.ts)["']/, file);
      }
    }
    assert.ok(files > 100, `${files} built modules`);
  });

  it("refuses a missing or unknown process name with the usage on stderr and exit code 2", () => {
    for (const args of [[], ["nonsense"], ["gateway", "extra"]]) {
      const run = spawnSync(process.execPath, ["bin/parley.mjs", ...args], { cwd: REPO_ROOT, encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
      assert.equal(run.status, 2, `exit code for ${JSON.stringify(args)}`);
      assert.match(run.stderr, /usage: node bin\/parley\.mjs <standalone\|account\|idgen\|chat\|presence\|notify\|discovery\|gateway>/);
      assert.equal(run.stdout, "");
    }
    assert.match(spawnSync(process.execPath, ["bin/parley.mjs", "nonsense"], { cwd: REPO_ROOT, encoding: "utf8" }).stderr, /unknown process "nonsense"/);
  });

  it("turns off V8's allocation-site pretenuring for every process before anything else runs", () => {
    // Objects that all survive, from one allocation site. With pretenuring on, V8 weighs the site's
    // survival at each scavenge and traces it ("pretenuring: AllocationSite(...) ... maybe tenure",
    // then "=> tenure" once it decides, which the timing of collections may or may not reach); with it
    // off, V8 weighs nothing and traces nothing. The control run proves the workload is weighed.
    const workload = "const keep = []; const make = (i) => ({ i, a: i + 1 }); for (let i = 0; i < 2_000_000; i++) keep.push(make(i));";
    const traced = (script: string) =>
      spawnSync(process.execPath, ["--trace-pretenuring", "--trace-pretenuring-statistics", "--input-type=module", "-e", script, "launcher", "--help"], {
        cwd: REPO_ROOT,
        encoding: "utf8",
      });
    const control = traced(workload);
    assert.equal(control.status, 0, control.stderr);
    assert.match(control.stdout, /pretenuring: AllocationSite\(/, "without the launcher V8 weighs the workload's allocation site for pretenuring");
    const launched = traced(`await import("./bin/parley.mjs"); ${workload}`);
    assert.equal(launched.status, 0, launched.stderr);
    assert.match(launched.stdout, /usage: node bin\/parley\.mjs/, "the launcher ran (its --help)");
    assert.doesNotMatch(launched.stdout, /pretenuring:/, "after the launcher, V8 weighs no allocation site for pretenuring");
  });

  describe("standalone (npm start)", () => {
    let dataDir: string;
    let parley: ServiceProcess | undefined;
    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), "parley-built-"));
      // npm start's Node flag, as npm start passes it.
      parley = await startProcess(
        built("standalone"),
        { DATA_DIR: dataDir, PORT: "0", ACCOUNT_SCRYPT_LOG_N: "10", ACCOUNT_SIGNUPS_PER_ADDRESS: "0", LOG_LEVEL: "info" },
        "parley is running",
        30_000,
        ["--max-semi-space-size=16"],
      );
    });
    after(async () => {
      await parley?.stop("SIGKILL");
      await rm(dataDir, { recursive: true, force: true });
    });

    it("runs as plain node bin/parley.mjs standalone, with no TypeScript loader", () => assertPlainNode(parley!, "standalone", ["--max-semi-space-size=16"]));

    it("serves /healthz, sign-up, log-in and a chat both ways through the SDK", async () => {
      assert.equal((await fetch(`${parley!.url}/healthz`)).status, 200);
      await chatBothWays(
        httpWorld(() => parley!.url),
        "built",
      );
    });

    it("stops cleanly on SIGTERM", async () => {
      assert.equal(await parley!.stop("SIGTERM"), 0);
      assert.match(parley!.output(), /"msg":"stopped"/);
    });
  });

  describe("the distributed mesh: every service its own built process, found through etcd", () => {
    let mesh: EtcdMesh;
    const names: LauncherName[] = ["account", "idgen", "presence", "notify", "chat", "gateway", "discovery"];
    before(async () => {
      mesh = await EtcdMesh.open("built", { built: true });
      await mesh.start("account", "account");
      await Promise.all([mesh.start("idgen", "idgen"), mesh.start("presence", "presence"), mesh.start("notify", "notify")]);
      await mesh.start("chat", "chat");
      await Promise.all([mesh.start("gateway", "gateway", { ZONE: "zone-a", GATEWAY_ID: "built-gw" }), mesh.start("discovery", "discovery")]);
    });
    after(() => mesh?.close());

    it("runs each service as plain node bin/parley.mjs <service>, with no TypeScript loader", async () => {
      for (const name of names) await assertPlainNode(mesh.procs[name]!, name);
    });

    it("serves sign-up, log-in and a chat both ways through the gateway and the SDK", () =>
      chatBothWays(
        httpWorld(() => mesh.procs.gateway!.url),
        "built_mesh",
      ));

    it("answers PickGateway from the discovery process with the registered gateway", async () => {
      const discovery = createClient(DiscoveryService, createGrpcTransport({ baseUrl: mesh.procs.discovery!.url }));
      const picked = await discovery.pickGateway({ zone: "zone-a" });
      assert.equal(picked.instanceId, "built-gw");
    });
  });
});
