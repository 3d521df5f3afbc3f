/**
 * One user must not degrade everyone: a probe pair sends at a steady, low
 * rate and measures send-to-delivery while another user floods the same
 * gateway, first from one socket, then from many sockets of several
 * devices. The flooder sends "as fast as it can": each of its sockets keeps
 * `window` sends outstanding and sends the next one as soon as any reply
 * (ack or error) comes back; a closed socket reconnects. The victim of the
 * flood has a connected device that reads everything, so the flood is
 * stored and delivered like real traffic.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchUser } from "../accounts.js";
import type { Latency } from "../stats.js";
import { connectParley, type ParleyConn } from "../wire.js";
import { runFlow, type Link } from "./flow.js";

export interface FloodSizes {
  /** Probe messages per second, and for how long each phase measures. */
  probeRate: number;
  seconds: number;
  /** Sends each flooding socket keeps outstanding. */
  window: number;
  /** Sockets the flooder tries to open in the many-sockets phase (spread over its devices' tokens). */
  sockets: number;
}

export interface FloodPhase {
  probe: Latency;
  /** The flood's acknowledged sends per second during the phase. */
  floodAcksPerSecond: number;
  /** Sockets the flooder held open at the start of the phase. */
  floodSockets: number;
}

export interface FloodWorld {
  probeSender: BenchUser;
  probeReceiver: BenchUser;
  probeConversation: bigint;
  flooder: BenchUser;
  victim: BenchUser;
  floodConversation: bigint;
}

/** A flooder over `sockets` sockets, round robin over `tokens`; stop() ends it and closes them. */
async function startFlood(url: string, tokens: string[], sockets: number, conversationId: bigint, window: number, tag: string) {
  let stopped = false;
  let acks = 0;
  let next = 0;
  const open = new Set<ParleyConn>();
  const sendFrom = (conn: ParleyConn) => {
    if (stopped) return;
    const i = next++;
    conn.send(conversationId, `${tag}-${i}`, `${tag}:${i}`).then(
      () => {
        acks++;
        sendFrom(conn);
      },
      (err: unknown) => {
        // A refusal (rate limit, queue full) is answered at once: try again. A closed socket stops here.
        if (!/connection closed/.test(String(err))) sendFrom(conn);
      },
    );
  };
  const keepOpen = async (token: string) => {
    while (!stopped) {
      const conn = await connectParley(url, token).catch(() => undefined);
      if (!conn) {
        await sleep(200); // refused at the upgrade (a cap): an attacker retries
        continue;
      }
      open.add(conn);
      const closed = new Promise<void>((resolve) => conn.onClose(() => resolve()));
      for (let w = 0; w < window; w++) sendFrom(conn);
      await closed;
      open.delete(conn);
    }
  };
  const loops = Array.from({ length: sockets }, (_, s) => keepOpen(tokens[s % tokens.length]!));
  // Let the sockets connect (or be refused) before the probe starts measuring.
  const deadline = Date.now() + 5_000;
  while (open.size < sockets && Date.now() < deadline) await sleep(50);
  return {
    get open() {
      return open.size;
    },
    get acks() {
      return acks;
    },
    async stop() {
      stopped = true;
      await Promise.all([...open].map((c) => c.close()));
      await Promise.all(loops);
    },
  };
}

/** The probe: `rate` messages per second for `seconds`, send to delivery on the receiver's device. */
async function probe(url: string, w: FloodWorld, rate: number, seconds: number, tag: string): Promise<Latency> {
  const [sender, receiver] = await Promise.all([connectParley(url, w.probeSender.tokens[0]!), connectParley(url, w.probeReceiver.tokens[0]!)]);
  try {
    const link: Link = { fanout: 1, onDeliver: () => {}, send: (i) => sender.send(w.probeConversation, `${tag}-${i}`, `${tag}:${i}`) };
    receiver.onMessage = (message, _seq, at) => {
      if (message.text.startsWith(`${tag}:`)) link.onDeliver(Number(message.text.slice(tag.length + 1)), 0, at);
    };
    const r = await runFlow([link], { messages: 0, rate, seconds, drainMs: 30_000 });
    if (r.lost > 0 || r.duplicated > 0) throw new Error(`flood probe: ${r.lost} lost and ${r.duplicated} duplicated of ${r.expected}`);
    return r.deliver;
  } finally {
    await Promise.all([sender.close(), receiver.close()]);
  }
}

/** One phase: the probe alone (sockets 0), or while the flooder floods from `sockets` sockets. */
export async function floodPhase(url: string, w: FloodWorld, s: FloodSizes, sockets: number, tag: string): Promise<FloodPhase> {
  const victim = await connectParley(url, w.victim.tokens[0]!);
  let lastFloodAt = performance.now();
  victim.onMessage = (_message, _seq, at) => (lastFloodAt = at);
  const flood = sockets > 0 ? await startFlood(url, w.flooder.tokens, sockets, w.floodConversation, s.window, `${tag}f`) : undefined;
  try {
    const floodSockets = flood?.open ?? 0;
    const acksBefore = flood?.acks ?? 0;
    const started = performance.now();
    const probed = await probe(url, w, s.probeRate, s.seconds, `${tag}p`);
    const elapsed = (performance.now() - started) / 1000;
    return { probe: probed, floodAcksPerSecond: ((flood?.acks ?? 0) - acksBefore) / elapsed, floodSockets };
  } finally {
    await flood?.stop();
    // What the flood left queued is still being stored and delivered: let it finish before the next phase.
    const deadline = performance.now() + 120_000;
    while (performance.now() - lastFloodAt < 1_000 && performance.now() < deadline) await sleep(100);
    await victim.close();
  }
}
