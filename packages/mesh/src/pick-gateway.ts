import { GATEWAY_SERVICE, type InstanceInfo } from "./instance.js";

/**
 * The gateway a connecting client should use. The rule, in order:
 *
 * 1. Only gateways that are not draining (a draining one is telling its own
 *    clients to leave) and that have a public URL.
 * 2. Gateways with room (load below capacity) before full ones: a full
 *    gateway is picked only when every candidate is full, because refusing
 *    the client outright would be worse than an overloaded connection.
 * 3. Among those, the client's zone first (when it sent one): cross-zone
 *    traffic costs latency and money, so a same-zone gateway wins even when
 *    it is busier, as long as it has room.
 * 4. Then the lowest load / capacity ratio.
 * 5. Exact ties are broken at random. Loads are reported every few seconds,
 *    so a deterministic choice would send a whole burst of reconnecting
 *    clients to the same gateway until its next report.
 *
 * Before all that, gateways whose public URL the client asks to avoid (the
 * one it just lost, which may be dead yet registered until its lease runs
 * out) are left out, unless no other qualifies.
 *
 * Returns undefined when no gateway qualifies. `random` returns a number in
 * [0, 1), injectable so tests can pin the tie-break.
 */
export function pickGateway(
  instances: readonly InstanceInfo[],
  clientZone: string,
  random: () => number = Math.random,
  avoidUrls: readonly string[] = [],
): InstanceInfo | undefined {
  const qualified = instances.filter((i) => i.service === GATEWAY_SERVICE && !i.draining && i.publicUrl !== "" && i.capacity > 0);
  const others = avoidUrls.length === 0 ? qualified : qualified.filter((i) => !avoidUrls.includes(i.publicUrl));
  const candidates = others.length > 0 ? others : qualified;
  if (candidates.length === 0) return undefined;
  const withRoom = candidates.filter((i) => i.load < i.capacity);
  let pool = withRoom.length > 0 ? withRoom : candidates;
  if (clientZone !== "") {
    const sameZone = pool.filter((i) => i.zone === clientZone);
    if (sameZone.length > 0) pool = sameZone;
  }
  const best = Math.min(...pool.map(ratio));
  const tied = pool.filter((i) => ratio(i) === best);
  return tied[Math.min(tied.length - 1, Math.floor(random() * tied.length))];
}

/** The most fallback gateways PickGateway names. */
export const FALLBACK_MAX = 3;

/**
 * Gateways to dial, in order, if `chosen` is lost: the qualified ones other
 * than it and those to avoid, the client's zone first, each drawn at random
 * weighted by free capacity (a full gateway keeps a small weight), so that
 * the clients of one gateway do not all fall back onto the same other one.
 */
export function fallbackGateways(
  instances: readonly InstanceInfo[],
  chosen: InstanceInfo,
  clientZone: string,
  random: () => number = Math.random,
  avoidUrls: readonly string[] = [],
  max = FALLBACK_MAX,
): InstanceInfo[] {
  const pool = instances.filter(
    (i) =>
      i.service === GATEWAY_SERVICE &&
      !i.draining &&
      i.publicUrl !== "" &&
      i.capacity > 0 &&
      i.publicUrl !== chosen.publicUrl &&
      !avoidUrls.includes(i.publicUrl),
  );
  const picked: InstanceInfo[] = [];
  for (const zone of clientZone === "" ? [undefined] : [true, false]) {
    let left = pool.filter((i) => zone === undefined || (i.zone === clientZone) === zone);
    while (left.length > 0 && picked.length < max) {
      const weights = left.map((i) => Math.max(0.05, 1 - ratio(i)));
      let draw = random() * weights.reduce((a, b) => a + b, 0);
      let index = 0;
      while (index < left.length - 1 && draw >= weights[index]!) draw -= weights[index++]!;
      picked.push(left[index]!);
      left = left.filter((_, i) => i !== index);
    }
  }
  return picked;
}

function ratio(instance: InstanceInfo): number {
  return instance.load / instance.capacity;
}
