import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { EtcdConnection } from "../src/adapters/etcd-client.js";
import { workerKey, WORKERS } from "../src/adapters/etcd-records.js";
import { EtcdWorkerIdLease } from "../src/adapters/etcd-worker-ids.js";
import { WorkerIdsExhausted } from "../src/errors.js";
import { WORKER_ID_COUNT, type WorkerIdLease } from "../src/ports.js";
import { dropConnection } from "./support.js";

export interface WorkerIdFixture {
  /** A lease of its own (as another idgen process would have) on the shared backend. */
  newLease(): WorkerIdLease;
  /** Marks every id from 0 to 1023 taken except `free`, as other live instances would. */
  takeAllBut(free: readonly number[]): Promise<void>;
  /** Frees what takeAllBut took. */
  untakeAll(): Promise<void>;
  cleanup(): Promise<void>;
}

/** The WorkerIdLease contract (see its doc comment), run against every adapter. */
/** The fixture for the etcd adapter on `conn`, its leases owned by `owner`. */
export function etcdWorkerIdFixture(conn: EtcdConnection, owner: string): WorkerIdFixture {
  return {
    newLease: () => new EtcdWorkerIdLease(conn, owner),
    async takeAllBut(free) {
      // Plain keys without a lease, as live instances' keys look to a claimer;
      // 128 puts per transaction, etcd's default limit of operations per txn.
      const ids = Array.from({ length: WORKER_ID_COUNT }, (_, id) => id).filter((id) => !free.includes(id));
      for (let i = 0; i < ids.length; i += 128) {
        const puts = ids.slice(i, i + 128).map((id) => conn.ns.put(workerKey(id)).value('{"owner":"prefilled"}'));
        await conn.ns
          .if(WORKERS, "Create", "==", 0)
          .then(...puts)
          .commit();
      }
    },
    async untakeAll() {
      await conn.ns.delete().prefix(WORKERS).exec();
    },
    cleanup: () => dropConnection(conn),
  };
}

export function describeWorkerIdContract(name: string, open: () => Promise<WorkerIdFixture>): void {
  describe(`worker id lease contract (${name})`, () => {
    let fixture: WorkerIdFixture;
    let leases: WorkerIdLease[] = [];
    const lease = () => {
      const l = fixture.newLease();
      leases.push(l);
      return l;
    };
    before(async () => {
      fixture = await open();
    });
    afterEach(async () => {
      for (const l of leases) await l.close();
      leases = [];
      await fixture.untakeAll();
    });
    after(() => fixture?.cleanup());

    it("claims 0 first, then the lowest free id", async () => {
      const first = lease();
      const second = lease();
      assert.equal(await first.claim(), 0);
      assert.equal(await second.claim(), 1);
      await first.close();
      assert.equal(await lease().claim(), 0, "0 was freed by close");
      assert.equal(await lease().claim(), 2);
    });

    it("gives concurrent claimers distinct ids", async () => {
      const claimed = await Promise.all(Array.from({ length: 12 }, () => lease().claim()));
      assert.deepEqual(
        [...claimed].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      );
    });

    it("serves the id through current() and onChange until close", async () => {
      const l = lease();
      const changes: (number | undefined)[] = [];
      l.onChange((id) => changes.push(id));
      assert.equal(l.current(), undefined, "nothing before claim");
      const id = await l.claim();
      assert.equal(l.current(), id);
      await l.close();
      assert.equal(l.current(), undefined);
      assert.deepEqual(changes, [id, undefined]);
    });

    it("takes the last free id when 1,023 are held", async () => {
      await fixture.takeAllBut([777]);
      assert.equal(await lease().claim(), 777);
    });

    it("refuses with WorkerIdsExhausted, in plain words, when all 1,024 are held", async () => {
      await fixture.takeAllBut([]);
      const l = lease();
      await assert.rejects(l.claim(), (err) => err instanceof WorkerIdsExhausted && /all 1024 Snowflake worker ids are taken/.test(err.message));
      assert.equal(l.current(), undefined);
    });
  });
}
