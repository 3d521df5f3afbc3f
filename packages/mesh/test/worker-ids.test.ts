import { MemoryWorkerIdLease, MemoryWorkerIdPool } from "../src/adapters/memory-worker-ids.js";
import { WORKER_ID_COUNT } from "../src/ports.js";
import { describeWorkerIdContract, etcdWorkerIdFixture } from "./worker-id-contract.js";
import { testConnection } from "./support.js";

describeWorkerIdContract("memory", async () => {
  const pool = new MemoryWorkerIdPool();
  const taken = new Set<number>();
  return {
    newLease: () => new MemoryWorkerIdLease(pool),
    async takeAllBut(free) {
      for (let id = 0; id < WORKER_ID_COUNT; id++) if (!free.includes(id) && !pool.held.has(id)) taken.add(id);
      for (const id of taken) pool.held.add(id);
    },
    async untakeAll() {
      for (const id of taken) pool.held.delete(id);
      taken.clear();
    },
    cleanup: async () => {},
  };
});

describeWorkerIdContract("etcd", async () => etcdWorkerIdFixture(testConnection("worker-id-contract"), "contract-test"));
