import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { ParleyClient, type ParleyClientOptions } from "@parley/client";

/**
 * Thousands of SDK clients on worker threads, for tests that measure how
 * fast a mesh takes back a dead gateway's clients. On the test's own thread
 * the clients were the bottleneck, not the servers: the test runner's async
 * hooks tax every promise, and one event loop saturated (delay p99 1.1 s)
 * while the gateway idled. Each worker runs its share of the clients on its
 * own loop and reports when every one of them has lost its connection and
 * is open again.
 */
type Setup = Pick<ParleyClientOptions, "url" | "discovery"> & { tokens: string[] };
type ToWorker = { type: "watch" } | { type: "close" };
type FromWorker =
  | { type: "open" }
  | { type: "watching" }
  | { type: "failed"; message: string }
  | { type: "back"; reopenedAt: number[]; disconnects: number[]; reasons: Record<string, number> }
  | { type: "closed" };

/** Clients opened IN_STEP at a time at the start, as a fleet reconnects, short of the listen backlog. */
const IN_STEP = 200;

export class ClientSwarm {
  private constructor(private readonly workers: Worker[]) {}

  /** Opens one client per token over `threads` workers; resolves once every client is open. */
  static async open(setup: Setup, threads = 2): Promise<ClientSwarm> {
    const share = Math.ceil(setup.tokens.length / threads);
    const workers = Array.from(
      { length: threads },
      (_, i) => new Worker(new URL(import.meta.url), { workerData: { ...setup, clientSwarm: true, tokens: setup.tokens.slice(i * share, (i + 1) * share) } }),
    );
    const swarm = new ClientSwarm(workers);
    await Promise.all(workers.map((w) => swarm.next(w, "open")));
    return swarm;
  }

  /**
   * Starts watching every client (resolving once all workers are), for the
   * moment each has lost its connection and is open again: `back` settles
   * with when each reopened, how often each lost its connection, and how
   * many disconnects each close code and reason accounts for.
   */
  async watch(): Promise<{ back: Promise<{ reopenedAt: number[]; disconnects: number[]; reasons: Record<string, number> }> }> {
    const reports = this.workers.map((w) => this.next(w, "back"));
    const watching = this.workers.map((w) => this.next(w, "watching"));
    for (const w of this.workers) w.postMessage({ type: "watch" } satisfies ToWorker);
    await Promise.all(watching);
    const back = Promise.all(reports).then((all) => {
      const reasons: Record<string, number> = {};
      for (const [why, count] of all.flatMap((r) => Object.entries(r.reasons))) reasons[why] = (reasons[why] ?? 0) + count;
      return { reopenedAt: all.flatMap((r) => r.reopenedAt), disconnects: all.flatMap((r) => r.disconnects), reasons };
    });
    return { back };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        const closed = this.next(w, "closed").catch(() => undefined);
        w.postMessage({ type: "close" } satisfies ToWorker);
        await closed;
        await w.terminate();
      }),
    );
  }

  private next<T extends FromWorker["type"]>(worker: Worker, type: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === "failed") return done(() => reject(new Error(message.message)));
        if (message.type === type) done(() => resolve(message as Extract<FromWorker, { type: T }>));
      };
      const onError = (err: Error) => done(() => reject(err));
      const done = (settle: () => void) => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        settle();
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
    });
  }
}

/** The worker's side: its clients, opened IN_STEP at a time, then watched. */
async function runWorker(setup: Setup): Promise<void> {
  const port = parentPort!;
  const clients = setup.tokens.map((token) => new ParleyClient({ url: setup.url, ...(setup.discovery ? { discovery: setup.discovery } : {}), token }));
  try {
    for (let i = 0; i < clients.length; i += IN_STEP) await Promise.all(clients.slice(i, i + IN_STEP).map((c) => c.connect()));
    if (!clients.every((c) => c.state === "open")) throw new Error("a client did not open");
  } catch (err) {
    port.postMessage({ type: "failed", message: `opening the clients failed: ${(err as Error).message}` } satisfies FromWorker);
    return;
  }
  port.postMessage({ type: "open" } satisfies FromWorker);
  port.on("message", (message: ToWorker) => {
    if (message.type === "close") {
      void Promise.all(clients.map((c) => c.close())).then(() => port.postMessage({ type: "closed" } satisfies FromWorker));
      return;
    }
    const disconnects = clients.map(() => 0);
    const reopenedAt = clients.map(() => 0);
    const reasons: Record<string, number> = {};
    clients.forEach((c, i) => {
      c.on("disconnected", (info) => {
        disconnects[i]!++;
        const why = `${info.code} ${info.reason}`;
        reasons[why] = (reasons[why] ?? 0) + 1;
      });
      c.on("connected", () => (reopenedAt[i] = Date.now()));
    });
    port.postMessage({ type: "watching" } satisfies FromWorker);
    const check = setInterval(() => {
      if (!clients.every((c, i) => disconnects[i]! > 0 && c.state === "open")) return;
      clearInterval(check);
      port.postMessage({ type: "back", reopenedAt, disconnects, reasons } satisfies FromWorker);
    }, 20);
  });
}

if (!isMainThread && (workerData as { clientSwarm?: boolean } | undefined)?.clientSwarm === true) void runWorker(workerData as Setup);
