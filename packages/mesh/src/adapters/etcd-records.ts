import type { IKeyValue } from "etcd3";
import type { InstanceInfo } from "../instance.js";

/**
 * The etcd key layout, relative to the deployment prefix (ETCD_PREFIX,
 * "/parley/" by default):
 *
 *   instances/<service>/<instance id>  -> JSON of the instance plus "owner"
 *                                         (bound to the instance's lease)
 *   idgen/workers/<0000..1023>         -> JSON {owner, claimedAt}
 *                                         (bound to the idgen's worker-id lease)
 *
 * Worker ids are zero-padded so a range read returns them in numeric order.
 * "owner" is a random token per registry client: it tells a process's own
 * stale registration (which it may overwrite) from another live process's.
 */
export const INSTANCES = "instances/";
export const WORKERS = "idgen/workers/";

export function instancePrefix(service: string): string {
  return service === "" ? INSTANCES : `${INSTANCES}${service}/`;
}

export function instanceKey(instance: Pick<InstanceInfo, "service" | "instanceId">): string {
  return `${INSTANCES}${instance.service}/${instance.instanceId}`;
}

export function workerKey(id: number): string {
  return `${WORKERS}${String(id).padStart(4, "0")}`;
}

/** The worker id in a key under WORKERS, or undefined for anything else. */
export function workerIdOf(key: string): number | undefined {
  const match = /^idgen\/workers\/(\d{4})$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

export function encodeInstance(instance: InstanceInfo, owner: string): string {
  return JSON.stringify({ ...instance, owner });
}

/** The owner token of a stored instance, or undefined when the value is not one. */
export function ownerOf(value: Buffer): string | undefined {
  try {
    const owner = (JSON.parse(value.toString()) as { owner?: unknown }).owner;
    return typeof owner === "string" ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The instance stored in `kv`, or undefined when the value is not a
 * well-formed instance (written by hand or by a newer version): readers skip
 * such entries rather than fail on them.
 */
export function decodeInstance(kv: IKeyValue): InstanceInfo | undefined {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(kv.value.toString()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { service, instanceId, address, zone, load, capacity, draining, publicUrl } = raw;
  if (typeof service !== "string" || typeof instanceId !== "string" || typeof address !== "string") return undefined;
  if (typeof zone !== "string" || typeof load !== "number" || typeof capacity !== "number") return undefined;
  if (typeof draining !== "boolean" || typeof publicUrl !== "string") return undefined;
  return { service, instanceId, address, zone, load, capacity, draining, publicUrl };
}
