import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DiscoveryService } from "@parley/contracts/parley/discovery/v1/discovery";
import { connectEtcd, EtcdRegistry } from "@parley/mesh";
import { testCredentials, testEtcdUrl, uniqueEtcdPrefix, until } from "@parley/testkit";
import { dropConnection, gateway } from "../../../packages/mesh/test/support.js";
import { runToExit, startProcess } from "../../../test/support/process.js";

const MAIN = "services/discovery/src/main.ts";

describe("the discovery process", () => {
  const url = testEtcdUrl();
  const prefix = uniqueEtcdPrefix("discovery-main");
  const conn = connectEtcd({ endpoints: [url], prefix, leaseTtlSeconds: 2, timeoutMs: 2000 });
  const credentials = testCredentials();
  after(() => {
    dropConnection(conn);
    credentials.close();
  });

  it("registers itself, serves PickGateway from etcd, and deregisters on SIGTERM", async () => {
    const proc = await startProcess(
      MAIN,
      { SERVICE_TRUST_FILE: credentials.keys.trustFile, DISCOVERY_PORT: "0", ETCD_ENDPOINTS: url, ETCD_PREFIX: prefix, ZONE: "z1" },
      "discovery listening",
    );
    // PickGateway is public; ListInstances shows internal addresses and is for operators only.
    const client = createClient(DiscoveryService, createGrpcTransport({ baseUrl: proc.url }));
    await assert.rejects(client.listInstances({}), (err: unknown) => ConnectError.from(err).code === Code.Unauthenticated);
    const asGateway = createClient(DiscoveryService, credentials.plane("gateway").transport(new URL(proc.url).host, "discovery"));
    await assert.rejects(asGateway.listInstances({}), (err: unknown) => ConnectError.from(err).code === Code.PermissionDenied);
    const operator = createClient(DiscoveryService, credentials.plane("operator:test").transport(new URL(proc.url).host, "discovery"));
    const [self] = (await operator.listInstances({ service: "discovery" })).instances;
    assert.equal(self?.address, new URL(proc.url).host);
    assert.equal(self?.zone, "z1");

    const registry = new EtcdRegistry(conn);
    await registry.register(gateway("gw-main", { zone: "z1" }));
    await until(
      () =>
        client.pickGateway({ zone: "z1" }).then(
          (r) => r.instanceId === "gw-main",
          () => false,
        ),
      "the gateway to be picked",
    );
    await registry.close();

    assert.equal(await proc.stop("SIGTERM"), 0);
    assert.deepEqual(await conn.ns.getAll().prefix("instances/").keys(), [], "deregistered at once, not a TTL later");
  });

  it("refuses to start with a clear message when ETCD_ENDPOINTS is malformed", async () => {
    const { code, output } = await runToExit(MAIN, {
      SERVICE_TRUST_FILE: credentials.keys.trustFile,
      DISCOVERY_PORT: "0",
      ETCD_ENDPOINTS: "etcd-without-scheme:2379",
    });
    assert.equal(code, 1);
    assert.match(output, /ETCD_ENDPOINTS: must be comma-separated http:\/\/ or https:\/\/ URLs/);
  });
});
