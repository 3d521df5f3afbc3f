import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { callApi } from "./support/http-api.js";
import { ClientSwarm } from "./support/client-swarm.js";
import { EtcdMesh } from "./support/etcd-mesh.js";

/**
 * Issue 15 asks that a dead gateway's 2,000 clients be back on the others
 * within 5 s. This test runs 200 by default (PARLEY_FAILOVER_USERS x 10
 * devices), enough to show that clients leave a dead gateway at once instead
 * of being sent back to it until its lease runs out, in CI; 2,000 with
 * PARLEY_FAILOVER_USERS=200 (the figures are in docs/architecture.md's
 * failure table).
 */
const USERS = Number(process.env.PARLEY_FAILOVER_USERS ?? 20);
const DEVICES_PER_USER = 10;
const BACK_WITHIN_MS = 5_000;

describe("gateway failover: the clients of a SIGKILLed gateway, with the production lease TTL (10 s)", () => {
  let mesh: EtcdMesh;
  let swarm: ClientSwarm | undefined;

  before(async () => {
    // No lease TTL given: the dead gateway stays registered for up to 10 s, as in production.
    mesh = await EtcdMesh.open("failover");
    await mesh.start("account", "account");
    await mesh.start("idgen", "idgen");
    await mesh.start("presence", "presence");
    await mesh.start("chat", "chat", { CHAT_PUSH_ENABLED: "false" });
    await Promise.all([mesh.start("gateway", "g1", { ZONE: "zone-a", GATEWAY_ID: "g1" }), mesh.start("gateway", "g2", { ZONE: "zone-b", GATEWAY_ID: "g2" })]);
  });

  after(async () => {
    await swarm?.close();
    await mesh?.close();
  });

  /** Access tokens for USERS users on DEVICES_PER_USER devices each, 16 calls at a time. */
  async function tokens(): Promise<string[]> {
    const api = mesh.procs.g2!.url;
    const all: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < USERS) {
        const username = `failover_${next++}`;
        await callApi(api, "SignUp", { username, password: "correct horse battery" });
        for (let d = 0; d < DEVICES_PER_USER; d++) {
          const login = await callApi(api, "LogIn", { username, password: "correct horse battery", deviceName: `device ${d}` });
          assert.equal(login.status, 200, JSON.stringify(login.body));
          all.push(login.body.session.accessToken as string);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return all;
  }

  it(`has all ${USERS * DEVICES_PER_USER} clients back on the live gateway within 5 s, though the dead one is still registered`, async () => {
    const discovery = { url: [mesh.procs.g1!.url, mesh.procs.g2!.url], zone: "zone-a" };
    // Every client connected to zone-a's gateway, from worker threads (see ClientSwarm).
    swarm = await ClientSwarm.open({ url: mesh.procs.g1!.url, discovery, tokens: await tokens() });
    const { back } = await swarm.watch();
    const killedAt = Date.now();
    await mesh.procs.g1!.stop("SIGKILL");
    const { reopenedAt, disconnects, reasons } = await back;
    const times = reopenedAt.map((t) => t - killedAt).sort((a, b) => a - b);
    const backInMs = times.at(-1)!;
    const q = (f: number) => times[Math.min(times.length - 1, Math.floor(f * times.length))];
    const tries = [...disconnects].sort((a, b) => a - b);
    console.log(
      `reopened p10 ${q(0.1)} p50 ${q(0.5)} p90 ${q(0.9)} max ${q(1)} ms; disconnects per client p50 ${tries[tries.length >> 1]} max ${tries.at(-1)}`,
    );
    console.log(`disconnects by close code and reason: ${JSON.stringify(reasons)}`);
    console.log(`${times.length} clients of the killed gateway were back on the other in ${backInMs} ms (lease TTL 10 s)`);
    assert.equal(times.length, USERS * DEVICES_PER_USER);
    assert.ok(backInMs <= BACK_WITHIN_MS, `back in ${backInMs} ms`);
  });
});
