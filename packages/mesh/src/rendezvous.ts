import type { ServiceInstance } from "./mesh.js";

/**
 * Who serves a user among the instances of a service: rendezvous (highest
 * random weight) hashing of the user id over the instances' addresses. The
 * gateway (chat commands, presence sessions), chat (device lookups) and
 * presence itself all use these functions, so any two processes that see the
 * same instance set agree on every user's instance without talking.
 */

/** A 32-bit key of the user id (both halves folded, so ids differing only in high bits still spread). */
function userKey(userId: bigint): number {
  return (Number(userId & 0xffffffffn) ^ Number((userId >> 32n) & 0xffffffffn)) >>> 0;
}

/** A 32-bit finaliser (murmur3's): every input bit moves every output bit, so the scores of one user over the instances are independent. */
function mix(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The candidate with the highest score for this user. Removing a candidate
 * moves only the users it had; adding one takes about 1/n of the users from
 * each of the others.
 */
export function rendezvous<T>(userId: bigint, candidates: readonly T[], weightOf: (candidate: T) => number): T | undefined {
  const key = userKey(userId);
  let best: T | undefined;
  let bestScore = -1;
  for (const candidate of candidates) {
    const score = mix(key ^ weightOf(candidate));
    if (score > bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  return best;
}

/** FNV-1a of an instance's address: its fixed weight in rendezvous(). */
export function addressWeight(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * The owner of each user among one snapshot of a service's instances: the
 * rendezvous choice over those registered and not draining (a draining
 * instance owns nobody, so its users move before it goes). Immutable; build a
 * new one when the registry changes and compare with `sameAs`.
 */
export class Owners {
  /** The owning candidates' addresses, sorted. */
  readonly addresses: readonly string[];
  private readonly weighted: readonly { address: string; weight: number }[];

  constructor(instances: readonly ServiceInstance[]) {
    this.addresses = [...new Set(instances.filter((i) => !i.draining).map((i) => i.address))].sort();
    this.weighted = this.addresses.map((address) => ({ address, weight: addressWeight(address) }));
  }

  /** The owner's address; undefined when no instance can own. */
  of(userId: bigint): string | undefined {
    if (this.weighted.length === 1) return this.weighted[0]!.address;
    return rendezvous(userId, this.weighted, (w) => w.weight)?.address;
  }

  /**
   * The users grouped by owner, each group in the order the users came
   * (duplicates kept); users with no owner are under `undefined`.
   */
  split(userIds: Iterable<bigint>): Map<string | undefined, bigint[]> {
    const groups = new Map<string | undefined, bigint[]>();
    for (const userId of userIds) {
      const owner = this.of(userId);
      const group = groups.get(owner);
      if (group) group.push(userId);
      else groups.set(owner, [userId]);
    }
    return groups;
  }

  /** True when both snapshots give every user the same owner. */
  sameAs(other: Owners): boolean {
    return this.addresses.length === other.addresses.length && this.addresses.every((address, i) => address === other.addresses[i]);
  }
}
