import { WorkerIdsExhausted } from "../errors.js";
import { WORKER_ID_COUNT, type WorkerIdLease } from "../ports.js";

/**
 * The worker ids of one process. Single process only: it keeps generators in
 * the same process apart (the embedded mode runs one; tests run several),
 * and nothing beyond. Ids are held until their lease closes: with no remote
 * server there is no lease to lose, so current() never fences.
 */
export class MemoryWorkerIdPool {
  readonly held = new Set<number>();
}

export class MemoryWorkerIdLease implements WorkerIdLease {
  readonly #listeners = new Set<(workerId: number | undefined) => void>();
  #workerId: number | undefined;
  #closed = false;

  constructor(private readonly pool: MemoryWorkerIdPool) {}

  async claim(): Promise<number> {
    if (this.#workerId !== undefined || this.#closed) throw new Error("claim() may be called once, before close()");
    let id = 0;
    while (this.pool.held.has(id)) id++;
    if (id >= WORKER_ID_COUNT) throw new WorkerIdsExhausted(WORKER_ID_COUNT);
    this.pool.held.add(id);
    this.#workerId = id;
    this.#emit();
    return id;
  }

  current(): number | undefined {
    return this.#closed ? undefined : this.#workerId;
  }

  onChange(listener: (workerId: number | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#workerId !== undefined) this.pool.held.delete(this.#workerId);
    this.#emit();
  }

  #emit(): void {
    for (const listener of this.#listeners) listener(this.current());
  }
}
