import { createHash } from "node:crypto";
import { isIP } from "node:net";

/** The address of calls that name none (internal tools calling account directly): they all share one budget. */
const NO_ADDRESS = "unknown";

/**
 * The part of a client's address that one party controls, which is what
 * per-address limits count: an IPv4 address as it is, and for IPv6 the /64
 * prefix, since a single subscriber is routinely given a whole /64 and could
 * otherwise take a fresh address for every try. IPv4-mapped IPv6 addresses
 * (::ffff:192.0.2.1) count as the IPv4 address.
 */
export function addressKey(address: string | undefined): string {
  const raw = address?.trim() ?? "";
  if (raw === "") return NO_ADDRESS;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(raw);
  if (mapped) return mapped[1]!;
  if (isIP(raw) !== 6) return raw.toLowerCase();
  return `${expandIpv6(raw).slice(0, 4).join(":")}::/64`;
}

/**
 * A counter key for `parts` under `kind`: a SHA-256, so that keys have one
 * length whatever a username's length, and the shared table holds no
 * usernames or addresses in the clear.
 */
export function counterKey(kind: string, ...parts: string[]): string {
  return `${kind}:${createHash("sha256").update(parts.join("\u0000")).digest("base64url")}`;
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros. */
function expandIpv6(address: string): string[] {
  const [head, tail] = address.toLowerCase().split("%")[0]!.split("::") as [string, string | undefined];
  const groups = (part: string | undefined) => (part === undefined || part === "" ? [] : part.split(":"));
  const left = groups(head);
  const right = groups(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4 handled above; 64:ff9b::1.2.3.4 here) takes two groups.
  const last = right.length > 0 ? right : left;
  if (last.length > 0 && last[last.length - 1]!.includes(".")) {
    const [a, b, c, d] = last.pop()!.split(".").map(Number) as [number, number, number, number];
    last.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill("0"), ...right].map((g) => parseInt(g, 16).toString(16));
}
