import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import type { InstanceInfo } from "./instance.js";

/**
 * A client transport to whichever instances of `service` are live: each call
 * (a unary call, or a stream when it opens) goes to the next live, non-draining
 * instance in turn, so a new instance takes work as soon as it registers and
 * a dead one stops getting it as soon as its lease is gone. Long-lived
 * streams keep their instance; their reconnect loops pick again. With no
 * live instance a call fails with UNAVAILABLE, which callers already retry.
 *
 * `instances` is read on every call (a registry watch's current(), which
 * keeps the last known set while etcd is unreachable); one transport per
 * address is kept and dropped once the address leaves the set.
 */
export function registryTransport(service: string, instances: () => readonly InstanceInfo[], connect: (baseUrl: string) => Transport): Transport {
  const byAddress = new Map<string, Transport>();
  let turn = 0;
  const choose = (): Transport => {
    const live = instances().filter((i) => i.service === service && !i.draining);
    for (const address of byAddress.keys()) if (!live.some((i) => i.address === address)) byAddress.delete(address);
    if (live.length === 0) throw new ConnectError(`no live ${service} instance is registered`, Code.Unavailable);
    const { address } = live[turn++ % live.length]!;
    let transport = byAddress.get(address);
    if (transport === undefined) {
      transport = connect(`http://${address}`);
      byAddress.set(address, transport);
    }
    return transport;
  };
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) => choose().unary(method, signal, timeoutMs, header, input, contextValues),
    stream: (method, signal, timeoutMs, header, input, contextValues) => choose().stream(method, signal, timeoutMs, header, input, contextValues),
  };
}
