import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DiscoveryService } from "@parley/contracts/parley/discovery/v1/discovery";
import { createLogger, errorInterceptor, Metrics, startServer, type RunningServer } from "@parley/runtime";
import { until } from "@parley/testkit";
import { EtcdRegistry } from "../src/adapters/etcd-registry.js";
import { MemoryRegistry, MemoryRegistryStore } from "../src/adapters/memory-registry.js";
import { mapDiscoveryError } from "../src/errors.js";
import type { Registry } from "../src/ports.js";
import { startDiscoveryService, type RunningDiscovery } from "../src/discovery-service.js";
import { dropConnection, gateway, instance, testConnection } from "./support.js";

const silent = createLogger("test", "silent");

interface Served {
  client: Client<typeof DiscoveryService>;
  close(): Promise<void>;
}

/** The DiscoveryService over real gRPC (h2c) on 127.0.0.1, reading `registry`. */
async function serve(registry: Registry): Promise<Served> {
  const discovery: RunningDiscovery = await startDiscoveryService({ registry, retryAfterMs: 3000, random: () => 0 });
  const server: RunningServer = await startServer({
    host: "127.0.0.1",
    port: 0,
    routes: discovery.routes,
    serviceNames: discovery.serviceNames,
    logger: silent,
    metrics: new Metrics(),
    interceptors: [errorInterceptor(mapDiscoveryError, silent)],
  });
  return {
    client: createClient(DiscoveryService, createGrpcTransport({ baseUrl: server.url })),
    async close() {
      await server.close(100);
      await discovery.close();
    },
  };
}

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  assert.fail("the call succeeded");
}

describe("discovery service (memory registry)", () => {
  const store = new MemoryRegistryStore();
  const registry = new MemoryRegistry(store);
  let served: Served;
  before(async () => {
    served = await serve(new MemoryRegistry(store));
  });
  after(async () => {
    await served.close();
    await registry.close();
  });

  it("answers PickGateway with UNAVAILABLE, a retry hint and retry-after when no gateway is live", async () => {
    const err = await failure(served.client.pickGateway({ zone: "a" }));
    assert.equal(err.code, Code.Unavailable);
    assert.match(err.rawMessage, /no live gateway is registered; retry in 3 s/);
    assert.equal(err.metadata.get("retry-after"), "3");
  });

  it("answers UNAVAILABLE when the only gateway is draining", async () => {
    const draining = await registry.register(gateway("gw-draining", { draining: true }));
    await until(async () => (await served.client.listInstances({ service: "gateway" })).instances.length === 1, "the watch to see it");
    assert.equal((await failure(served.client.pickGateway({}))).code, Code.Unavailable);
    await draining.close();
  });

  it("returns the WebSocket URL of the same-zone gateway, then the least loaded one", async () => {
    const near = await registry.register(gateway("gw-near", { zone: "a", load: 80 }));
    const far = await registry.register(gateway("gw-far", { zone: "b", load: 5 }));
    await until(async () => (await served.client.listInstances({ service: "gateway" })).instances.length === 2, "both gateways");
    const picked = await served.client.pickGateway({ zone: "a" });
    assert.deepEqual(
      { url: picked.url, instanceId: picked.instanceId, zone: picked.zone },
      { url: "wss://gw-near.example.com/ws", instanceId: "gw-near", zone: "a" },
    );
    assert.deepEqual(picked.fallbackUrls, ["wss://gw-far.example.com/ws"], "the other gateway, to fall back on");
    assert.equal((await served.client.pickGateway({})).instanceId, "gw-far");
    await near.close();
    await far.close();
  });

  it("avoids the gateways a client lost, and refuses an avoid list beyond its limits with INVALID_ARGUMENT", async () => {
    const lost = await registry.register(gateway("gw-lost", { load: 0 }));
    const other = await registry.register(gateway("gw-other", { load: 50 }));
    await until(async () => (await served.client.listInstances({ service: "gateway" })).instances.length === 2, "both gateways");
    assert.equal((await served.client.pickGateway({})).instanceId, "gw-lost");
    assert.equal((await served.client.pickGateway({ avoidUrls: ["wss://gw-lost.example.com/ws"] })).instanceId, "gw-other");
    const tooMany = await failure(served.client.pickGateway({ avoidUrls: Array.from({ length: 9 }, (_, i) => `wss://g${i}.example.com/ws`) }));
    assert.equal(tooMany.code, Code.InvalidArgument);
    assert.match(tooMany.rawMessage, /avoid_urls: at most 8 URLs \(got 9\)/);
    const tooLong = await failure(served.client.pickGateway({ avoidUrls: ["wss://ok.example.com/ws", `wss://${"x".repeat(2_100)}/ws`] }));
    assert.equal(tooLong.code, Code.InvalidArgument);
    assert.match(tooLong.rawMessage, /avoid_urls\[1\]: at most 2048 characters/);
    await lost.close();
    await other.close();
  });

  it("lists the live instances of one service or of all", async () => {
    const chat = await registry.register(instance({ service: "chat", instanceId: "chat-1", address: "10.0.0.3:7003", zone: "a", load: 2, capacity: 9 }));
    const idgen = await registry.register(instance({ service: "idgen", instanceId: "idgen-1" }));
    await until(async () => (await served.client.listInstances({})).instances.length === 2, "both instances");
    const [listed] = (await served.client.listInstances({ service: "chat" })).instances;
    assert.deepEqual(
      {
        service: listed?.service,
        instanceId: listed?.instanceId,
        address: listed?.address,
        zone: listed?.zone,
        load: listed?.load,
        capacity: listed?.capacity,
      },
      { service: "chat", instanceId: "chat-1", address: "10.0.0.3:7003", zone: "a", load: 2, capacity: 9 },
    );
    assert.deepEqual(
      (await served.client.listInstances({})).instances.map((i) => i.service),
      ["chat", "idgen"],
    );
    await chat.close();
    await idgen.close();
  });
});

describe("discovery service (etcd registry)", () => {
  const conn = testConnection("discovery-server");
  const gatewayProcess = new EtcdRegistry(conn);
  let served: Served;
  before(async () => {
    served = await serve(new EtcdRegistry(conn));
  });
  after(async () => {
    await served.close();
    await gatewayProcess.close();
    await dropConnection(conn);
  });

  it("follows gateways registering, changing load and leaving", async () => {
    const one = await gatewayProcess.register(gateway("etcd-gw-1", { load: 10 }));
    const two = await gatewayProcess.register(gateway("etcd-gw-2", { load: 20 }));
    await until(async () => (await served.client.listInstances({ service: "gateway" })).instances.length === 2, "both gateways");
    assert.equal((await served.client.pickGateway({})).instanceId, "etcd-gw-1");
    await one.update({ load: 90 });
    await until(async () => (await served.client.pickGateway({})).instanceId === "etcd-gw-2", "the load change");
    await two.close();
    await until(async () => (await served.client.pickGateway({})).instanceId === "etcd-gw-1", "etcd-gw-2 to leave");
    await one.close();
    await until(async () => (await failure(served.client.pickGateway({}))).code === Code.Unavailable, "no gateway");
  });
});
