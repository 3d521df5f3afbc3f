import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import type { InstanceInfo } from "./instance.js";

/** How long an instance that refused a connection is passed over while it is still registered. */
export const REFUSED_SKIP_MS = 1_000;
/** How long an instance that let a call run past its deadline is passed over (a stopped or hung process keeps its connections open). */
export const UNANSWERED_SKIP_MS = 5_000;

/**
 * A client transport to whichever instances of `service` are live: each call
 * (a unary call, or a stream when it opens) goes to the next live, non-draining
 * instance in turn, so a new instance takes work as soon as it registers and
 * a dead one stops getting it as soon as its lease is gone. Long-lived
 * streams keep their instance; their reconnect loops pick again. With no
 * live instance a call fails with UNAVAILABLE, which callers already retry.
 *
 * A killed instance stays registered until its lease ends (10 s by
 * default), and its port refuses connections meanwhile. A call refused so
 * never reached it, so it is made again at once on the next instance (once:
 * that is safe for any method), and the refusing instance is passed over for
 * REFUSED_SKIP_MS, unless no other is live. An instance that lets a call run
 * past its deadline (SIGSTOPped or hung: its connections stay open, so
 * nothing else tells) is passed over for UNANSWERED_SKIP_MS; that call is not
 * made again here, since it may have run: its caller decides.
 *
 * `instances` is read on every call (a registry watch's current(), which
 * keeps the last known set while etcd is unreachable); one transport per
 * address is kept and dropped once the address leaves the set.
 */
export function registryTransport(service: string, instances: () => readonly InstanceInfo[], connect: (baseUrl: string) => Transport): Transport {
  const byAddress = new Map<string, Transport>();
  const refusedUntil = new Map<string, number>();
  let turn = 0;
  const choose = (): { address: string; transport: Transport } => {
    const live = instances().filter((i) => i.service === service && !i.draining);
    for (const address of byAddress.keys()) if (!live.some((i) => i.address === address)) byAddress.delete(address);
    for (const address of refusedUntil.keys()) if (!live.some((i) => i.address === address)) refusedUntil.delete(address);
    if (live.length === 0) throw new ConnectError(`no live ${service} instance is registered`, Code.Unavailable);
    const now = performance.now();
    const answering = live.filter((i) => (refusedUntil.get(i.address) ?? 0) <= now);
    const from = answering.length > 0 ? answering : live;
    const { address } = from[turn++ % from.length]!;
    let transport = byAddress.get(address);
    if (transport === undefined) {
      transport = connect(`http://${address}`);
      byAddress.set(address, transport);
    }
    return { address, transport };
  };
  /** True when the call failed because the instance refused the connection; that, or a missed deadline, passes the instance over for a while. */
  const refused = (address: string, err: unknown): boolean => {
    if (err instanceof ConnectError && err.code === Code.DeadlineExceeded) refusedUntil.set(address, performance.now() + UNANSWERED_SKIP_MS);
    if (!isConnectionRefused(err)) return false;
    refusedUntil.set(address, performance.now() + REFUSED_SKIP_MS);
    return true;
  };
  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      const first = choose();
      try {
        return await first.transport.unary(method, signal, timeoutMs, header, input, contextValues);
      } catch (err) {
        if (!refused(first.address, err)) throw err;
        const next = choose();
        if (next.address === first.address) throw err;
        return next.transport.unary(method, signal, timeoutMs, header, input, contextValues);
      }
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      const chosen = choose();
      try {
        return await chosen.transport.stream(method, signal, timeoutMs, header, input, contextValues);
      } catch (err) {
        refused(chosen.address, err);
        throw err;
      }
    },
  };
}

/** The connection was refused (nothing listens at the address): the request never left this process. */
function isConnectionRefused(err: unknown): boolean {
  if (!(err instanceof ConnectError) || err.code !== Code.Unavailable) return false;
  return (err.cause as { code?: unknown } | undefined)?.code === "ECONNREFUSED";
}
