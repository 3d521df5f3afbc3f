import { testEtcdUrl, uniqueEtcdPrefix } from "@parley/testkit";
import { connectEtcd, type EtcdConnection } from "../src/adapters/etcd-client.js";
import type { InstanceInfo } from "../src/instance.js";

/** A connection to the shared test etcd under a prefix of its own (never skipped: no URL is an error). */
export function testConnection(name: string, leaseTtlSeconds = 2, url = testEtcdUrl()): EtcdConnection {
  return connectEtcd({ endpoints: [url], prefix: uniqueEtcdPrefix(name), leaseTtlSeconds, timeoutMs: 2_000 });
}

/** Deletes every key under the connection's prefix, then closes it. */
export async function dropConnection(conn: EtcdConnection): Promise<void> {
  await conn.ns
    .delete()
    .all()
    .exec()
    .catch(() => undefined);
  conn.close();
}

export function instance(overrides: Partial<InstanceInfo> & Pick<InstanceInfo, "service" | "instanceId">): InstanceInfo {
  return { address: "10.0.0.1:7000", zone: "", load: 0, capacity: 0, draining: false, publicUrl: "", ...overrides };
}

export function gateway(instanceId: string, overrides: Partial<InstanceInfo> = {}): InstanceInfo {
  return instance({
    service: "gateway",
    instanceId,
    address: "10.0.0.2:7004",
    capacity: 100,
    publicUrl: `wss://${instanceId}.example.com/ws`,
    ...overrides,
  });
}

export function ids(instances: readonly InstanceInfo[]): string[] {
  return instances.map((i) => i.instanceId);
}
