import { backoffDelayMs, type Logger } from "@parley/runtime";
import { WorkerIdsExhausted } from "../errors.js";
import type { Clocks } from "../lease-clock.js";
import { WORKER_ID_COUNT, type WorkerIdLease } from "../ports.js";
import type { EtcdConnection } from "./etcd-client.js";
import { KeptLease } from "./etcd-lease.js";
import { WORKERS, workerIdOf, workerKey } from "./etcd-records.js";

/** Races lost to other claimers before giving up one claim (each loss means someone else got an id). */
const MAX_CLAIM_ROUNDS = 64;

type State = "idle" | "held" | "verifying" | "reclaiming" | "closed";

/**
 * Worker ids leased in etcd (see WorkerIdLease for the guarantees). The key
 * idgen/workers/<id> is created only if absent, bound to this process's own
 * lease, so it vanishes when the process dies or is cut off long enough.
 *
 * States: "held" serves the id while the lease clock says valid. A keep-alive
 * confirmed after a lapse moves to "verifying" (synchronously, before the id
 * is served again) until a read shows the key still bound to the lease. A
 * lease etcd reports gone moves to "reclaiming": a new lease and a new claim,
 * retried with backoff for as long as etcd does not answer.
 */
export class EtcdWorkerIdLease implements WorkerIdLease {
  readonly #listeners = new Set<(workerId: number | undefined) => void>();
  #state: State = "idle";
  #lease: KeptLease | undefined;
  #workerId: number | undefined;
  #reported: number | undefined;

  constructor(
    private readonly conn: EtcdConnection,
    private readonly owner: string,
    private readonly logger?: Logger,
    private readonly clocks?: Clocks,
  ) {}

  async claim(): Promise<number> {
    if (this.#state !== "idle") throw new Error(`claim() may be called once, before anything else (state: ${this.#state})`);
    const lease = await this.#grant();
    try {
      this.#workerId = await this.#claimLowest(lease);
    } catch (err) {
      await lease.revoke();
      throw err;
    }
    this.#lease = lease;
    this.#state = "held";
    this.#report();
    return this.#workerId;
  }

  current(): number | undefined {
    if (this.#state !== "held" || !this.#lease?.clock.isValid()) return undefined;
    return this.#workerId;
  }

  onChange(listener: (workerId: number | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    const lease = this.#lease;
    this.#state = "closed";
    this.#lease = undefined;
    this.#report();
    // Revoking deletes the key at once, so the id is free for the next instance.
    await lease?.revoke();
  }

  #grant(): Promise<KeptLease> {
    return KeptLease.grant(
      this.conn,
      {
        onRenewed: (continuous) => {
          if (!continuous && this.#state === "held") {
            this.#state = "verifying";
            void this.#verify();
          }
        },
        onLost: () => this.#reclaim(),
        onAttempt: () => this.#report(),
      },
      this.clocks,
    );
  }

  /** Takes the lowest id without a key; a lost race just means reading again. */
  async #claimLowest(lease: KeptLease): Promise<number> {
    const { ns } = this.conn;
    const value = JSON.stringify({ owner: this.owner, claimedAt: new Date().toISOString() });
    try {
      for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
        const keys = await ns.getAll().prefix(WORKERS).keys();
        const taken = new Set(keys.map(workerIdOf));
        let id = 0;
        while (taken.has(id)) id++;
        if (id >= WORKER_ID_COUNT) throw new WorkerIdsExhausted(WORKER_ID_COUNT);
        const key = workerKey(id);
        const res = await ns.if(key, "Create", "==", 0).then(ns.put(key).value(value).lease(lease.id)).else(ns.get(key)).commit();
        // A retried call whose first try went through finds the key bound to our own lease.
        if (res.succeeded || res.responses[0]?.response_range.kvs[0]?.lease === lease.id) return id;
      }
    } catch (err) {
      if (err instanceof WorkerIdsExhausted) throw err;
      throw this.conn.unavailable("worker_id", "claiming a worker id", err);
    }
    throw this.conn.unavailable("worker_id", "claiming a worker id", new Error(`lost ${MAX_CLAIM_ROUNDS} races in a row to other claimers`));
  }

  /** After a lapse: serve the id again only once etcd shows the key still bound to this lease. */
  async #verify(): Promise<void> {
    const lease = this.#lease;
    const id = this.#workerId;
    if (lease === undefined || id === undefined) return;
    try {
      const kv = (await this.conn.ns.get(workerKey(id)).exec()).kvs[0];
      if (this.#state !== "verifying" || this.#lease !== lease) return;
      if (kv?.lease === lease.id) {
        this.#state = "held";
        this.logger?.info({ workerId: id }, "worker id lease confirmed after a lapse");
      } else {
        // Deleted by hand: the lease is alive, so claim again with it.
        this.#workerId = await this.#claimLowest(lease);
        if (this.#state === "verifying" && this.#lease === lease) this.#state = "held";
      }
    } catch (err) {
      // The next confirmed keep-alive will be continuous; stay fenced until a read succeeds.
      this.logger?.warn({ err: String(err) }, "checking the worker id after a lapse failed; retrying");
      setTimeout(() => void this.#verify(), lease.intervalMs).unref();
      return;
    }
    this.#report();
  }

  /** etcd says the lease is gone: a new lease, a new claim, retried until etcd answers. */
  #reclaim(): void {
    if (this.#state === "closed" || this.#state === "reclaiming") return;
    this.logger?.warn({ workerId: this.#workerId }, "worker id lease lost; fenced until a new worker id is claimed");
    this.#state = "reclaiming";
    this.#lease = undefined;
    this.#report();
    void (async () => {
      for (let attempt = 0; this.#state === "reclaiming"; attempt++) {
        let lease: KeptLease | undefined;
        try {
          lease = await this.#grant();
          const id = await this.#claimLowest(lease);
          if (this.#state !== "reclaiming") {
            await lease.revoke();
            return;
          }
          this.#lease = lease;
          this.#workerId = id;
          this.#state = "held";
          this.logger?.info({ workerId: id }, "worker id claimed again");
          this.#report();
          return;
        } catch (err) {
          await lease?.revoke();
          const delayMs = backoffDelayMs(attempt, { initialMs: 200, maxMs: 5000 });
          this.logger?.warn({ err: String(err), delayMs }, "claiming a worker id again failed; retrying");
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    })();
  }

  /** Tells listeners when what current() returns has changed (checked after every keep-alive attempt). */
  #report(): void {
    const now = this.current();
    if (now === this.#reported) return;
    this.#reported = now;
    for (const listener of this.#listeners) listener(now);
  }
}
