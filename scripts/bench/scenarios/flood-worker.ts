/**
 * The flood scenario's flooder, run in a worker thread. Each socket writes
 * sends as fast as the connection takes them, without waiting for replies:
 * `window` frames per turn of the event loop while less than 64 KiB is
 * still unsent (when the gateway stops reading, the writes back up and the
 * socket waits). A closed socket reconnects at once, a refused upgrade after
 * 200 ms: an attacker retries. Posts "ready" once every socket has
 * connected or been refused, then its stats whenever asked; "stop" ends it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { parentPort, workerData } from "node:worker_threads";
import { connectParley, type ParleyConn } from "../wire.js";

export interface FloodOrders {
  url: string;
  tokens: string[];
  sockets: number;
  conversationId: bigint;
  window: number;
  tag: string;
}

export interface FloodStats {
  /** Sockets open now. */
  open: number;
  /** Sends acknowledged so far. */
  acks: number;
}

const HIGH_WATER_BYTES = 64 * 1024;
const o = workerData as FloodOrders;
let stopped = false;
let acks = 0;
let next = 0;
let tried = 0;
const open = new Set<ParleyConn>();

async function pump(conn: ParleyConn, closed: { yes: boolean }): Promise<void> {
  while (!stopped && !closed.yes) {
    for (let n = 0; n < o.window && conn.bufferedAmount < HIGH_WATER_BYTES; n++) {
      const i = next++;
      conn.fire({ case: "send", value: { conversationId: o.conversationId, clientMsgId: `${o.tag}-${i}`, text: `${o.tag}:${i}` } });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function keepOpen(token: string): Promise<void> {
  let first = true;
  while (!stopped) {
    const conn = await connectParley(o.url, token).catch(() => undefined);
    if (first) tried++;
    first = false;
    if (!conn) {
      await sleep(200);
      continue;
    }
    open.add(conn);
    conn.onUnawaited = (frame) => void (frame.body.case === "send" && acks++);
    const closed = { yes: false };
    const ended = new Promise<void>((resolve) => conn.onClose(() => ((closed.yes = true), resolve())));
    await Promise.all([pump(conn, closed), ended]);
    open.delete(conn);
  }
}

const loops = Array.from({ length: o.sockets }, (_, s) => keepOpen(o.tokens[s % o.tokens.length]!));
while (tried < o.sockets) await sleep(20);
parentPort!.postMessage("ready");
parentPort!.on("message", async (m: "stats" | "stop") => {
  if (m === "stats") return parentPort!.postMessage({ open: open.size, acks } satisfies FloodStats);
  stopped = true;
  await Promise.all([...open].map((c) => c.close()));
  await Promise.all(loops);
  parentPort!.close();
});
