import { BlockList, isIP } from "node:net";
import { createContextValues, type ContextValues } from "@connectrpc/connect";
import { clientAddressKey, type NodeServerRequest } from "@parley/runtime";

/**
 * The proxies (load balancers) whose X-Forwarded-For the gateway believes,
 * as addresses or CIDR ranges (GATEWAY_TRUSTED_PROXIES). Empty by default:
 * then the address is always the socket's peer, and a client's own
 * X-Forwarded-For changes nothing.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const parsed = parseProxyEntry(entry);
      if (parsed === undefined) throw new Error(`not an address or CIDR range: ${entry}`);
      if (parsed.prefix === undefined) this.list.addAddress(parsed.address, parsed.family);
      else this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    const family = isIP(address);
    return this.size > 0 && family !== 0 && this.list.check(address, family === 4 ? "ipv4" : "ipv6");
  }
}

/** `192.0.2.7`, `10.0.0.0/8`, `2001:db8::/32`; undefined when it is none of these. */
export function parseProxyEntry(entry: string): { address: string; family: "ipv4" | "ipv6"; prefix: number | undefined } | undefined {
  const [address = "", prefixText, extra] = entry.trim().split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return undefined;
  if (prefixText === undefined) return { address, family: family === 4 ? "ipv4" : "ipv6", prefix: undefined };
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) return undefined;
  return { address, family: family === 4 ? "ipv4" : "ipv6", prefix };
}

/**
 * The end user's address for a request: the socket's peer, unless that peer
 * is a trusted proxy; then the rightmost X-Forwarded-For hop that is not a
 * trusted proxy (each proxy appends the peer it saw, so everything left of
 * the first untrusted hop may have been written by the client and is
 * ignored). When every hop is trusted, the leftmost one.
 */
export function clientAddress(req: NodeServerRequest, trusted: TrustedProxies): string {
  const peer = normalise(req.socket?.remoteAddress ?? "");
  if (!trusted.has(peer)) return peer;
  const header = req.headers["x-forwarded-for"];
  const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((hop) => normalise(hop))
    .filter((hop) => hop !== "");
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!;
  return hops[0] ?? peer;
}

/** Puts each call's client address in its context, where the forwarding to account reads it (forward.ts). */
export function clientAddressContext(trusted: TrustedProxies): (req: NodeServerRequest) => ContextValues {
  return (req) => createContextValues().set(clientAddressKey, clientAddress(req, trusted));
}

/** Plain addresses: IPv4-mapped IPv6 as IPv4, and no port or brackets (some proxies write `192.0.2.7:4711` or `[2001:db8::7]:4711`). */
function normalise(raw: string): string {
  let address = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(":"));
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return (mapped ? mapped[1]! : address).toLowerCase().slice(0, 100);
}
