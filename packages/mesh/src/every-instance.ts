import type { Transport } from "@connectrpc/connect";
import type { ServiceInstance } from "./mesh.js";

/** The instances of one service, as the registry shows them now, and a transport to each. */
export interface InstanceSource {
  current(): readonly ServiceInstance[];
  transport(address: string): Transport;
}

/** One instance reached through `transport` (one process, or a fixed address). */
export function singleInstance(transport: Transport): InstanceSource {
  const only = [{ address: "single", draining: false }];
  return { current: () => only, transport: () => transport };
}

export interface EveryInstanceOptions {
  /** How often the registry is read again (default 500 ms). */
  refreshMs?: number;
  /** The wait before `follow` runs again after it ended or failed, while the instance is still registered (default 1 s). */
  retryMs?: number;
  /** Told of each failure of `follow` (the task is retried). */
  onError(err: unknown, address: string): void;
}

/**
 * Runs `follow` against every registered instance of a service, one task per
 * instance: started for an instance that appears, started again after
 * `retryMs` when it ends while the instance is still registered, aborted
 * (through its signal) once the instance has left. For a stream that carries
 * only what happens on the instance it reaches, as account's event stream
 * does: with replicas, a client that followed one instance would miss the
 * others' events (a device logged out through another instance would keep
 * its socket).
 */
export function followEveryInstance(
  source: InstanceSource,
  follow: (transport: Transport, signal: AbortSignal) => Promise<void>,
  options: EveryInstanceOptions,
): { close(): void } {
  const { refreshMs = 500, retryMs = 1_000 } = options;
  const tasks = new Map<string, AbortController>();
  const run = async (address: string, abort: AbortController) => {
    while (!abort.signal.aborted) {
      try {
        await follow(source.transport(address), abort.signal);
      } catch (err) {
        if (!abort.signal.aborted) options.onError(err, address);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryMs);
        abort.signal.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  };
  const refresh = () => {
    const addresses = new Set(source.current().map((instance) => instance.address));
    for (const [address, abort] of tasks) {
      if (addresses.has(address)) continue;
      abort.abort();
      tasks.delete(address);
    }
    for (const address of addresses) {
      if (tasks.has(address)) continue;
      const abort = new AbortController();
      tasks.set(address, abort);
      void run(address, abort);
    }
  };
  refresh();
  const timer = setInterval(refresh, refreshMs);
  timer.unref();
  return {
    close() {
      clearInterval(timer);
      for (const abort of tasks.values()) abort.abort();
      tasks.clear();
    },
  };
}
