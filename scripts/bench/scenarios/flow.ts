/**
 * The message flow both systems are driven by, so Parley and the relay are
 * measured by the same code: a link sends message i and reports each
 * delivery of it (to one or many receivers); the runner keeps a window of
 * messages in flight or a fixed rate, timestamps everything on one clock,
 * and checks that every message reached every receiver exactly once.
 */
import { performance } from "node:perf_hooks";
import { latency, type Latency } from "../stats.js";

export interface Link {
  /** How many receivers each message has (1 for a pair, the members for a group). */
  readonly fanout: number;
  /** Sends message i; resolves with the ack's arrival time where the system acks (Parley), else undefined. */
  send(i: number): Promise<number | undefined>;
  /** Set by the runner: called for every delivery of message i to receiver r. */
  onDeliver: (i: number, receiver: number, at: number) => void;
}

export interface FlowOptions {
  /** Messages per link (max mode), or the cap in rate mode. */
  messages: number;
  /** Max mode: messages in flight per link, in flight until delivered to every receiver. */
  window?: number;
  /** Rate mode: messages per second over all links, for `seconds`. */
  rate?: number;
  seconds?: number;
  /** How long without any delivery before the missing ones count as lost. */
  drainMs?: number;
  /** Do not log failed sends (the caller reports them). */
  quiet?: boolean;
}

export interface FlowResult {
  /** Deliveries (message x receiver) seen, and expected. */
  delivered: number;
  expected: number;
  lost: number;
  duplicated: number;
  seconds: number;
  /** Deliveries per second, first send to last delivery. */
  perSecond: number;
  deliver: Latency;
  ack: Latency | undefined;
}

export async function runFlow(links: Link[], o: FlowOptions): Promise<FlowResult> {
  const perLink = o.rate !== undefined ? Math.ceil((o.rate * (o.seconds ?? 1)) / links.length) : o.messages;
  const fanout = links[0]!.fanout;
  const sentAt = links.map(() => new Float64Array(perLink));
  const remaining = links.map(() => new Uint16Array(perLink).fill(fanout));
  const seen = links.map(() => new Uint8Array(perLink * fanout));
  const sentCount = new Uint32Array(links.length);
  const completed = new Uint32Array(links.length);
  const deliverLat: number[] = [];
  const ackLat: number[] = [];
  let delivered = 0;
  let duplicated = 0;
  let lastDelivery = 0;
  let sendingDone = false;
  let finish: () => void = () => {};
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const started = performance.now();

  const sendOne = (l: number) => {
    const i = sentCount[l]!++;
    const at = performance.now();
    sentAt[l]![i] = at;
    void links[l]!.send(i).then(
      (ackAt) => ackAt !== undefined && ackLat.push(ackAt - at),
      (err: unknown) => o.quiet || console.error(`send ${l}/${i} failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  };
  const pump = (l: number) => {
    while (sentCount[l]! < perLink && sentCount[l]! - completed[l]! < o.window!) sendOne(l);
  };

  links.forEach((link, l) => {
    link.onDeliver = (i, receiver, at) => {
      if (i >= perLink || receiver >= fanout) return;
      const slot = i * fanout + receiver;
      if (seen[l]![slot]) {
        duplicated++;
        return;
      }
      seen[l]![slot] = 1;
      delivered++;
      lastDelivery = at;
      deliverLat.push(at - sentAt[l]![i]!);
      if (--remaining[l]![i]! === 0) {
        completed[l]!++;
        if (o.window !== undefined) pump(l);
      }
      if (delivered === perLink * links.length * fanout || (sendingDone && delivered === sentTotal() * fanout)) finish();
    };
  });
  const sentTotal = () => sentCount.reduce((a, b) => a + b, 0);

  if (o.window !== undefined) {
    for (const l of links.keys()) pump(l);
    sendingDone = true;
  } else {
    await paced(links.length, perLink, o.rate!, (o.seconds ?? 1) * 1000, sendOne);
    sendingDone = true;
    if (delivered === sentTotal() * fanout) finish();
  }
  let done = false;
  void allDone.then(() => (done = true));
  while (!done && performance.now() - Math.max(lastDelivery, started) < (o.drainMs ?? 10_000)) {
    await Promise.race([allDone, new Promise((resolve) => setTimeout(resolve, 100))]);
  }
  const expected = sentTotal() * fanout;
  const seconds = ((lastDelivery || performance.now()) - started) / 1000;
  return {
    delivered,
    expected,
    lost: expected - delivered,
    duplicated,
    seconds,
    perSecond: delivered / seconds,
    deliver: latency(deliverLat),
    ack: ackLat.length > 0 ? latency(ackLat) : undefined,
  };
}

/** Sends at `rate` per second in total, round robin over the links, for `ms`. */
async function paced(links: number, perLink: number, rate: number, ms: number, sendOne: (l: number) => void): Promise<void> {
  const started = performance.now();
  let sent = 0;
  let next = 0;
  const cap = perLink * links;
  while (sent < cap) {
    const elapsed = performance.now() - started;
    if (elapsed >= ms) break;
    const due = Math.min(cap, Math.floor((rate * elapsed) / 1000));
    for (; sent < due; sent++) {
      sendOne(next);
      next = (next + 1) % links;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
