import { EtcdWorkerIdLease } from "../src/adapters/etcd-worker-ids.js";
import { workerKey, WORKERS } from "../src/adapters/etcd-records.js";
import { MemoryWorkerIdLease, MemoryWorkerIdPool } from "../src/adapters/memory-worker-ids.js";
import { WORKER_ID_COUNT } from "../src/ports.js";
import { describeWorkerIdContract } from "./worker-id-contract.js";
import { dropConnection, testConnection } from "./support.js";

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

describeWorkerIdContract("etcd", async () => {
  const conn = testConnection("worker-id-contract");
  return {
    newLease: () => new EtcdWorkerIdLease(conn, "contract-test"),
    async takeAllBut(free) {
      // Plain keys without a lease, as live instances' keys look to a claimer;
      // 128 puts per transaction, etcd's default limit of operations per txn.
      const ids = Array.from({ length: WORKER_ID_COUNT }, (_, id) => id).filter((id) => !free.includes(id));
      for (let i = 0; i < ids.length; i += 128) {
        const puts = ids.slice(i, i + 128).map((id) => conn.ns.put(workerKey(id)).value('{"owner":"prefilled"}'));
        await conn.ns.if(WORKERS, "Create", "==", 0).then(...puts).commit();
      }
    },
    async untakeAll() {
      await conn.ns.delete().prefix(WORKERS).exec();
    },
    cleanup: () => dropConnection(conn),
  };
});
