/**
 * The flood scenario's flooder and its victim, run in a worker thread so
 * their work does not delay the probe's timestamps in the main thread.
 *
 * Each flooding socket writes sends as fast as the connection takes them,
 * without waiting for replies: `window` frames per turn of the event loop
 * while less than 64 KiB is still unsent (when the gateway stops reading,
 * the writes back up and the socket waits). A closed socket reconnects at
 * once, a refused upgrade after 200 ms: an attacker retries. The victim's
 * device reads everything and counts the flood's messages it receives:
 * what the flood got stored and delivered.
 *
 * Posts "ready" once the victim is connected and every flooding socket has
 * connected or been refused; answers "stats" with FloodStats; "cease"
 * drops the flooding sockets and stops reconnecting (the victim stays, to
 * see the rest of the flood arrive). The scenario terminates the thread.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { connectParley, type ParleyConn } from "../wire.js";

export interface FloodOrders {
  url: string;
  tokens: string[];
  victimToken: string;
  sockets: number;
  conversationId: bigint;
  window: number;
  tag: string;
}

export interface FloodStats {
  /** Flooding sockets open now. */
  open: number;
  /** Flood messages the victim's device has received. */
  delivered: number;
  /** How long since the victim received a flood message, ms. */
  quietMs: number;
}

const HIGH_WATER_BYTES = 64 * 1024;
const o = workerData as FloodOrders;
let ceased = false;
let delivered = 0;
let lastDelivery = performance.now();
let next = 0;
let tried = 0;
const open = new Set<ParleyConn>();

async function pump(conn: ParleyConn, closed: { yes: boolean }): Promise<void> {
  while (!closed.yes && !ceased) {
    for (let n = 0; n < o.window && conn.bufferedAmount < HIGH_WATER_BYTES; n++) {
      const i = next++;
      conn.fire({ case: "send", value: { conversationId: o.conversationId, clientMsgId: `${o.tag}-${i}`, text: `${o.tag}:${i}` } });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function keepOpen(token: string): Promise<void> {
  let first = true;
  while (!ceased) {
    const conn = await connectParley(o.url, token).catch(() => undefined);
    if (first) tried++;
    first = false;
    if (!conn) {
      await sleep(200);
      continue;
    }
    if (ceased) return conn.terminate();
    open.add(conn);
    const closed = { yes: false };
    const ended = new Promise<void>((resolve) =>
      conn.onClose(() => {
        closed.yes = true;
        resolve();
      }),
    );
    await Promise.all([pump(conn, closed), ended]);
    open.delete(conn);
  }
}

const victim = await connectParley(o.url, o.victimToken);
victim.onMessage = (message, _seq, at) => {
  if (!message.text.startsWith(`${o.tag}:`)) return;
  delivered++;
  lastDelivery = at;
};
for (let s = 0; s < o.sockets; s++) void keepOpen(o.tokens[s % o.tokens.length]!);
while (tried < o.sockets) await sleep(20);
parentPort!.postMessage("ready");
parentPort!.on("message", (m: "stats" | "cease") => {
  if (m === "cease") {
    ceased = true;
    for (const conn of open) conn.terminate();
  }
  parentPort!.postMessage({ open: open.size, delivered, quietMs: performance.now() - lastDelivery } satisfies FloodStats);
});
