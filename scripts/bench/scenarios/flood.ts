/**
 * One user must not degrade everyone: a probe pair sends at a steady, low
 * rate and measures send-to-delivery while another user floods the same
 * gateway, first from one socket, then from many sockets of several
 * devices. The flooder sends as fast as its sockets take frames (see
 * startFlood). The victim of the flood has a connected device that reads
 * everything, so what the flood gets accepted is stored and delivered like
 * real traffic.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import type { BenchUser } from "../accounts.js";
import type { FloodOrders, FloodStats } from "./flood-worker.js";
import type { Latency } from "../stats.js";
import { connectParley } from "../wire.js";
import { runFlow, type Link } from "./flow.js";

export interface FloodSizes {
  /** Probe messages per second, and for how long each phase measures. */
  probeRate: number;
  seconds: number;
  /** Frames each flooding socket writes per turn of its event loop while the connection takes them. */
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

/** The flooder in a worker thread of its own, so its work does not delay the probe's timestamps here. */
async function startFlood(url: string, tokens: string[], sockets: number, conversationId: bigint, window: number, tag: string) {
  const worker = new Worker(new URL("./flood-worker.ts", import.meta.url), {
    workerData: { url, tokens, sockets, conversationId, window, tag } satisfies FloodOrders,
  });
  let stats: FloodStats = { open: 0, acks: 0 };
  worker.on("message", (m: FloodStats | "ready") => m !== "ready" && (stats = m));
  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (m) => m === "ready" && resolve());
    worker.once("error", reject);
  });
  await ready;
  const ask = async () => {
    const answer = new Promise<void>((resolve) => worker.once("message", () => resolve()));
    worker.postMessage("stats");
    await answer;
    return stats;
  };
  return {
    stats: ask,
    async stop() {
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      worker.postMessage("stop");
      await exited;
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
    const before = (await flood?.stats()) ?? { open: 0, acks: 0 };
    const started = performance.now();
    const probed = await probe(url, w, s.probeRate, s.seconds, `${tag}p`);
    const elapsed = (performance.now() - started) / 1000;
    const after = (await flood?.stats()) ?? before;
    return { probe: probed, floodAcksPerSecond: (after.acks - before.acks) / elapsed, floodSockets: before.open };
  } finally {
    await flood?.stop();
    // What the flood left queued is still being stored and delivered: let it finish before the next phase.
    const deadline = performance.now() + 120_000;
    while (performance.now() - lastFloodAt < 1_000 && performance.now() < deadline) await sleep(100);
    await victim.close();
  }
}
