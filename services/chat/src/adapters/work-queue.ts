export interface WorkQueueOptions<T> {
  /** How many jobs may wait; offers beyond it are refused. */
  capacity: number;
  /** How many jobs run at once. */
  concurrency: number;
  /** Runs one job; `signal` aborts when the queue closes. */
  run: (job: T, signal: AbortSignal) => Promise<void>;
  /** Gets what a job threw (run should handle its own failures; this is the backstop). */
  onError: (err: unknown) => void;
}

/**
 * A bounded in-memory job queue with bounded concurrency: offer() never
 * waits, it takes the job or refuses it. A job offered with a key replaces a
 * waiting (not yet running) job with the same key, keeping its place: the
 * newer one supersedes it. In memory only: closing abandons whatever waits
 * and aborts what runs. A job offered with `settled` hears how it ended:
 * true once it (or the job that superseded it) has run, false when the
 * queue closed first (while it waited, or by aborting its run).
 */
export class WorkQueue<T> {
  private readonly waiting: Box<T>[] = [];
  private readonly byKey = new Map<string, Box<T>>();
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly o: WorkQueueOptions<T>) {}

  /** Jobs waiting to run. */
  get size(): number {
    return this.waiting.length;
  }

  /** Takes the job (replacing a waiting one with the same key), or returns false when the queue is full or closed. */
  offer(job: T, key?: string, settled?: (ran: boolean) => void): boolean {
    if (this.abort.signal.aborted) return false;
    const queued = key === undefined ? undefined : this.byKey.get(key);
    if (queued !== undefined) {
      queued.job = job;
      if (settled) queued.settled.push(settled);
      return true;
    }
    if (this.waiting.length >= this.o.capacity) return false;
    const box: Box<T> = { job, key, settled: settled ? [settled] : [] };
    this.waiting.push(box);
    if (key !== undefined) this.byKey.set(key, box);
    this.pump();
    return true;
  }

  /** Drops the waiting jobs, aborts the running ones and resolves when they have returned. */
  async close(): Promise<void> {
    this.abort.abort();
    for (const box of this.waiting.splice(0)) for (const settled of box.settled) settled(false);
    this.byKey.clear();
    await Promise.all(this.running);
  }

  private pump(): void {
    while (this.running.size < this.o.concurrency && this.waiting.length > 0) {
      const box = this.waiting.shift()!;
      if (box.key !== undefined) this.byKey.delete(box.key);
      const task: Promise<void> = this.o
        .run(box.job, this.abort.signal)
        .catch(this.o.onError)
        .finally(() => {
          const ran = !this.abort.signal.aborted;
          for (const settled of box.settled) settled(ran);
          this.running.delete(task);
          this.pump();
        });
      this.running.add(task);
    }
  }
}

interface Box<T> {
  job: T;
  key: string | undefined;
  /** Told how the job ended; a superseded job's listeners move to the job that replaced it. */
  settled: ((ran: boolean) => void)[];
}
