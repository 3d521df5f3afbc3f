import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ParleyClient } from "@parley/client";
import type { Message } from "@parley/contracts/parley/chat/v1/chat";
import { until } from "@parley/testkit";
import { callApi } from "./support/http-api.js";
import { EtcdMesh } from "./support/etcd-mesh.js";

/** Short leases so a killed gateway leaves the registry within seconds (production default: 10 s). */
const TTL_SECONDS = 3;

interface Device {
  name: string;
  client: ParleyClient;
  messages: Message[];
  errors: Error[];
  reconnects: number;
}

describe("discovery: every service found through etcd, two gateways, PickGateway, failover and drain", () => {
  let mesh: EtcdMesh;
  let procs: EtcdMesh["procs"];
  const devices: Device[] = [];
  const startGateway = (zone: string, id: string) =>
    mesh.start("gateway", id, { ZONE: zone, GATEWAY_ID: id, GATEWAY_HEARTBEAT_INTERVAL_MS: "1000", SHUTDOWN_GRACE_MS: "2000" });
  /** Any live gateway's public API serves PickGateway. */
  const api = () => (mesh.alive("g1") ? procs.g1!.url : procs.g2!.url);

  before(async () => {
    mesh = await EtcdMesh.open("mesh", { leaseTtlSeconds: TTL_SECONDS });
    procs = mesh.procs;
    // No service is given another's address: each registers in etcd and finds the others there.
    await mesh.start("account", "account", { ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 5).toString("base64url") });
    await mesh.start("idgen", "idgen");
    await mesh.start("presence", "presence", { PRESENCE_GRACE_MS: "1000" });
    await mesh.start("chat", "chat", { CHAT_PUSH_ENABLED: "false" });
    await startGateway("zone-a", "g1");
    await startGateway("zone-b", "g2");
  });

  after(async () => {
    await Promise.all(devices.map((d) => d.client.close()));
    await mesh?.close();
  });

  async function device(username: string, zone: string): Promise<Device & { userId: bigint }> {
    await callApi(api(), "SignUp", { username, password: "correct horse battery" });
    const login = await callApi(api(), "LogIn", { username, password: "correct horse battery", deviceName: "phone" });
    const client = new ParleyClient({
      url: api(),
      // As behind a load balancer: any live gateway answers PickGateway.
      discovery: { url: [procs.g1!.url, procs.g2!.url], zone },
      token: login.body.session.accessToken,
      backoff: { initialMs: 100, maxMs: 1_000 },
    });
    const d: Device & { userId: bigint } = { name: username, client, messages: [], errors: [], reconnects: 0, userId: BigInt(login.body.profile.userId) };
    client.on("message", (m) => d.messages.push(m));
    client.on("error", (e) => d.errors.push(e));
    client.on("disconnected", () => d.reconnects++);
    await client.connect();
    devices.push(d);
    return d;
  }

  const pick = async (zone: string) =>
    (await (
      await fetch(`${api()}/parley.discovery.v1.DiscoveryService/PickGateway`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ zone }),
      })
    ).json()) as { url?: string; instanceId?: string; code?: string; message?: string };

  it("sends each client to its zone's gateway and carries chat across the two", async () => {
    assert.equal((await pick("zone-a")).instanceId, "g1");
    assert.equal((await pick("zone-b")).instanceId, "g2");
    const alice = await device("mesh_alice", "zone-a");
    const bob = await device("mesh_bob", "zone-b");
    const conversation = await alice.client.openDirect(bob.userId);
    await alice.client.send(conversation.conversationId, "from gateway 1");
    await bob.client.send(conversation.conversationId, "from gateway 2");
    await until(() => bob.messages.length >= 2 && alice.messages.length >= 2, "both messages on both sides");
    assert.deepEqual(
      bob.messages.map((m) => m.text),
      ["from gateway 1", "from gateway 2"],
    );
    // The public port answers PickGateway only: ListInstances would show every internal address.
    const listed = await fetch(`${api()}/parley.discovery.v1.DiscoveryService/ListInstances`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const body = (await listed.json()) as { code?: string; instances?: unknown };
    assert.equal(body.code, "unimplemented");
    assert.equal(body.instances, undefined);
  });

  it("loses nothing when a gateway is SIGKILLed under load: its clients move to the other one and sync", async () => {
    const a = await device("kill_a", "zone-a");
    const b = await device("kill_b", "zone-b");
    const conversation = await a.client.openDirect(b.userId);
    const acked = new Map<string, bigint>();
    let sending = true;
    const pump = async (from: Device, label: string) => {
      for (let i = 0; sending; i++) {
        const ack = await from.client.send(conversation.conversationId, `${label} ${i}`);
        acked.set(`${label} ${i}`, ack.messageId);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const pumps = [pump(a, "a"), pump(b, "b")];
    await until(() => acked.size >= 20, "traffic before the kill");
    // Read before the kill: bob may be told of the lost connection before stop() returns.
    const before = b.reconnects;
    const killedAt = Date.now();
    await procs.g2!.stop("SIGKILL");
    await until(() => b.reconnects > before && b.client.state === "open", "bob back on a live gateway");
    const backInMs = Date.now() - killedAt;
    console.log(`clients of the killed gateway were back after ${backInMs} ms (lease TTL ${TTL_SECONDS} s; the SDK avoids the dead one)`);
    await until(() => [...acked.keys()].filter((k) => k.startsWith("b")).length >= 40, "bob sending again after the failover");
    sending = false;
    await Promise.all(pumps);
    for (const d of [a, b]) {
      await until(() => d.messages.length >= acked.size, `${d.name} to hold every acked message`);
      const ids = d.messages.map((m) => m.messageId);
      assert.equal(new Set(ids).size, ids.length, `${d.name} saw a message twice`);
      assert.deepEqual(new Set(ids), new Set(acked.values()), `${d.name} holds exactly the acked messages`);
    }
    assert.ok(backInMs < 15_000, `back within 15 s, took ${backInMs} ms`);
    // The same instance id again only once the dead one's lease has run out (the registry refuses a live duplicate).
    await until(async () => (await pick("zone-b")).instanceId !== "g2", "the dead gateway's lease to run out", { timeoutMs: 15_000 });
    await startGateway("zone-b", "g2");
  });

  it("drains on SIGTERM: PickGateway stops choosing it and its clients reconnect elsewhere without an error", async () => {
    const c = await device("drain_c", "zone-a");
    const d = await device("drain_d", "zone-b");
    const conversation = await c.client.openDirect(d.userId);
    await c.client.send(conversation.conversationId, "before the drain");
    const before = c.reconnects;
    const stopped = procs.g1!.stop("SIGTERM");
    await until(() => c.reconnects > before && c.client.state === "open", "carol on the other gateway");
    assert.equal(await stopped, 0, "the drained gateway exits cleanly");
    assert.equal((await pick("zone-a")).instanceId, "g2", "a draining or gone gateway is never picked");
    await c.client.send(conversation.conversationId, "after the drain");
    await until(() => d.messages.length >= 2, "dave to get both");
    assert.deepEqual(
      d.messages.map((m) => m.text),
      ["before the drain", "after the drain"],
    );
    assert.deepEqual([...c.errors, ...d.errors], [], "no errors seen by clients");
  });
});
