import { MemoryRegistry, MemoryRegistryStore } from "../src/adapters/memory-registry.js";
import { EtcdRegistry } from "../src/adapters/etcd-registry.js";
import { describeRegistryContract } from "./registry-contract.js";
import { dropConnection, testConnection } from "./support.js";

describeRegistryContract("memory", async () => {
  const store = new MemoryRegistryStore();
  return { newRegistry: () => new MemoryRegistry(store), cleanup: async () => {} };
});

describeRegistryContract("etcd", async () => {
  const conn = testConnection("registry-contract");
  return { newRegistry: () => new EtcdRegistry(conn), cleanup: () => dropConnection(conn) };
});
