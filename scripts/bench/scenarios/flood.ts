/**
 * One user must not degrade everyone: a probe pair sends at a steady, low
 * rate and measures send-to-delivery while another user floods the same
 * gateway, first from one socket, then from many sockets of several
 * devices. The flooder sends as fast as its sockets take frames, and the
 * victim of the flood has a connected device that reads everything, so
 * what the flood gets accepted is stored and delivered like real traffic
 * (flood-worker.ts).
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
  /** Send to delivery of the probe messages delivered. */
  probe: Latency;
  /** Probe messages not delivered within 30 s of the last delivery. */
  probeLost: number;
  /** The flood's messages delivered to the victim per second during the phase: what it got stored. */
  floodDeliveredPerSecond: number;
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

/** The flooder and its victim in a worker thread of their own (see flood-worker.ts). */
async function startFlood(orders: FloodOrders) {
  const worker = new Worker(new URL("./flood-worker.ts", import.meta.url), { workerData: orders });
  const replies: ((stats: FloodStats) => void)[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (m: FloodStats | "ready") => (m === "ready" ? resolve() : replies.shift()?.(m)));
    worker.once("error", reject);
  });
  await ready;
  const ask = (what: "stats" | "cease") =>
    new Promise<FloodStats>((resolve) => {
      replies.push(resolve);
      worker.postMessage(what);
    });
  return {
    stats: () => ask("stats"),
    /** Stops flooding, waits until what the flood left queued has been delivered (1 s without any), then ends the thread. */
    async stop() {
      await ask("cease");
      const deadline = performance.now() + 120_000;
      while ((await ask("stats")).quietMs < 1_000 && performance.now() < deadline) await sleep(100);
      await worker.terminate();
    },
  };
}

/** The probe: `rate` messages per second for `seconds`, send to delivery on the receiver's device. */
async function probe(url: string, w: FloodWorld, rate: number, seconds: number, tag: string): Promise<{ latency: Latency; lost: number }> {
  const [sender, receiver] = await Promise.all([connectParley(url, w.probeSender.tokens[0]!), connectParley(url, w.probeReceiver.tokens[0]!)]);
  try {
    const link: Link = { fanout: 1, onDeliver: () => {}, send: (i) => sender.send(w.probeConversation, `${tag}-${i}`, `${tag}:${i}`) };
    receiver.onMessage = (message, _seq, at) => {
      if (message.text.startsWith(`${tag}:`)) link.onDeliver(Number(message.text.slice(tag.length + 1)), 0, at);
    };
    const r = await runFlow([link], { messages: 0, rate, seconds, drainMs: 30_000, quiet: true });
    if (r.duplicated > 0) throw new Error(`flood probe: ${r.duplicated} duplicated of ${r.expected}`);
    // Under a flood a probe send may time out (DEADLINE_EXCEEDED) and not be delivered within 30 s: a figure, not a failure.
    return { latency: r.deliver, lost: r.lost };
  } finally {
    await Promise.all([sender.close(), receiver.close()]);
  }
}

/** One phase: the probe alone (sockets 0), or while the flooder floods from `sockets` sockets. */
export async function floodPhase(url: string, w: FloodWorld, s: FloodSizes, sockets: number, tag: string): Promise<FloodPhase> {
  const flood =
    sockets > 0
      ? await startFlood({
          url,
          tokens: w.flooder.tokens,
          victimToken: w.victim.tokens[0]!,
          sockets,
          conversationId: w.floodConversation,
          window: s.window,
          tag: `${tag}f`,
        })
      : undefined;
  try {
    const before = (await flood?.stats()) ?? { open: 0, delivered: 0, quietMs: 0 };
    const started = performance.now();
    const probed = await probe(url, w, s.probeRate, s.seconds, `${tag}p`);
    const elapsed = (performance.now() - started) / 1000;
    const after = (await flood?.stats()) ?? before;
    return {
      probe: probed.latency,
      probeLost: probed.lost,
      floodDeliveredPerSecond: (after.delivered - before.delivered) / elapsed,
      floodSockets: before.open,
    };
  } finally {
    await flood?.stop();
  }
}
