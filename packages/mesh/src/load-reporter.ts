import type { Logger } from "@parley/runtime";
import type { Registration } from "./ports.js";

/**
 * Publishes an instance's load (a gateway's connection count) every
 * `intervalMs`, writing only when it changed: PickGateway reads the load
 * from the registry, and an idle instance should cost etcd nothing. A failed
 * write is logged and retried at the next tick; the registry rewrites the
 * latest load itself after it recovers a lost lease. Returns stop().
 */
export function reportLoad(registration: Registration, probe: () => number, intervalMs: number, logger?: Logger): () => void {
  let writing = false;
  const timer = setInterval(() => {
    const load = probe();
    if (writing || load === registration.instance.load) return;
    writing = true;
    registration
      .update({ load })
      .catch((err: unknown) => logger?.warn({ err: String(err), load }, "publishing the load failed; retrying at the next tick"))
      .finally(() => (writing = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
