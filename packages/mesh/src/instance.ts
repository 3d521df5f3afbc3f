import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { InvalidInstance } from "./errors.js";

/**
 * A live service instance, as the registry stores it. Mirrors the proto
 * message parley.discovery.v1.Instance; the domain keeps its own plain type so
 * adapters and rules do not depend on generated code.
 */
export interface InstanceInfo {
  /** "gateway", "chat", "presence", "idgen", "account", "notify", "discovery". */
  service: string;
  /** Unique per process; part of the etcd key, so no "/". */
  instanceId: string;
  /** host:port of its gRPC server. */
  address: string;
  /** Such as "eu-west-1a"; empty when unknown. */
  zone: string;
  /** Current load: connections for a gateway. */
  load: number;
  /** The load it is sized for; a gateway must have at least 1. */
  capacity: number;
  /** True while it shuts down: no new work goes to it. */
  draining: boolean;
  /** For gateways: the ws:// or wss:// URL clients connect to; empty for other services. */
  publicUrl: string;
}

export const GATEWAY_SERVICE = "gateway";

const SERVICE = /^[a-z][a-z0-9-]{0,62}$/;
const INSTANCE_ID = /^[A-Za-z0-9._-]{1,128}$/;
const ZONE = /^[A-Za-z0-9._-]{0,63}$/;
// A DNS name or IPv4 address, or a bracketed IPv6 address, then a port.
const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;
const UINT32_MAX = 2 ** 32 - 1;

/** A process-unique instance id: host name, pid and a random suffix (a restarted pid gets a new id). */
export function newInstanceId(service: string): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9.-]/g, "-")
    .slice(0, 60);
  return `${service}-${host}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** Returns a copy of `instance` with defaults filled in, or throws InvalidInstance listing every problem. */
export function validateInstance(instance: Partial<InstanceInfo> & Pick<InstanceInfo, "service" | "instanceId" | "address">): InstanceInfo {
  const full: InstanceInfo = { zone: "", load: 0, capacity: 0, draining: false, publicUrl: "", ...instance };
  const problems: string[] = [];
  if (!SERVICE.test(full.service)) problems.push(`service must be lowercase letters, digits and "-" (got "${full.service}")`);
  if (!INSTANCE_ID.test(full.instanceId)) problems.push(`instance id must be 1 to 128 of A-Z a-z 0-9 . _ - (got "${full.instanceId}")`);
  const addressProblem = checkAddress(full.address);
  if (addressProblem) problems.push(addressProblem);
  if (!ZONE.test(full.zone)) problems.push(`zone must be up to 63 of A-Z a-z 0-9 . _ - (got "${full.zone}")`);
  if (!isUint32(full.load)) problems.push(`load must be a whole number from 0 to ${UINT32_MAX} (got ${full.load})`);
  if (!isUint32(full.capacity)) problems.push(`capacity must be a whole number from 0 to ${UINT32_MAX} (got ${full.capacity})`);
  if (full.service === GATEWAY_SERVICE) {
    if (full.capacity < 1) problems.push("a gateway's capacity must be at least 1");
    const urlProblem = checkPublicUrl(full.publicUrl);
    if (urlProblem) problems.push(urlProblem);
  } else if (full.publicUrl !== "") {
    const urlProblem = checkPublicUrl(full.publicUrl);
    if (urlProblem) problems.push(urlProblem);
  }
  if (problems.length > 0) throw new InvalidInstance(full.service, full.instanceId, problems);
  return full;
}

function checkAddress(address: string): string | undefined {
  const match = HOST_PORT.exec(address);
  const port = match ? Number(match[1]) : NaN;
  if (match && port >= 1 && port <= 65535) return undefined;
  return `address must be host:port with a port from 1 to 65535, such as 10.0.0.7:7003 (got "${address}")`;
}

function checkPublicUrl(value: string): string | undefined {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // Never echo a URL that carries credentials: the message may reach a log.
  if (url && (url.username !== "" || url.password !== "")) return "public URL must not contain credentials";
  if (url && (url.protocol === "ws:" || url.protocol === "wss:") && url.hostname !== "") return undefined;
  return `public URL must be a ws:// or wss:// URL, such as wss://chat.example.com/ws (got "${value}")`;
}

function isUint32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= UINT32_MAX;
}

/** Registry order: by service, then instance id. */
export function byServiceAndId(a: InstanceInfo, b: InstanceInfo): number {
  return a.service === b.service ? compare(a.instanceId, b.instanceId) : compare(a.service, b.service);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
