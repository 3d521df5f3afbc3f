/**
 * Idle connections: how much resident memory each authenticated, idle
 * connection costs the process holding it (from /proc), and how fast they
 * are accepted. The cost is the slope between half and all of the
 * connections, each measured after they settle: the first half also pays
 * for the heap growing to its working size under the connect storm, which
 * is not a cost per connection.
 */
import { performance } from "node:perf_hooks";
import { rssKiB, type Target } from "../targets.js";
import { connectParley, connectRelay } from "../wire.js";

export interface IdleResult {
  connections: number;
  kibPerConnection: number;
  connectsPerSecond: number;
}

const SETTLE_MS = 3_000;

async function measure(target: Target, count: number, open: (i: number) => Promise<{ close(): Promise<void> }>): Promise<IdleResult> {
  // A heap that once held connections keeps the memory: every run starts from a fresh process.
  await target.restart();
  const conns: { close(): Promise<void> }[] = [];
  let next = 0;
  const connectUpTo = async (limit: number) => {
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < limit) conns.push(await open(next++));
      }),
    );
  };
  const half = Math.floor(count / 2);
  const started = performance.now();
  await connectUpTo(half);
  const halfSeconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const atHalf = await rssKiB(target.edgePid);
  const resumed = performance.now();
  await connectUpTo(count);
  const connectsPerSecond = count / (halfSeconds + (performance.now() - resumed) / 1000);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const atFull = await rssKiB(target.edgePid);
  await Promise.all(conns.map((c) => c.close()));
  return { connections: count, kibPerConnection: (atFull - atHalf) / (count - half), connectsPerSecond };
}

export function idleParley(target: Target, tokens: string[]): Promise<IdleResult> {
  return measure(target, tokens.length, (i) => connectParley(target.url, tokens[i]!));
}

export function idleRelay(target: Target, count: number): Promise<IdleResult> {
  return measure(target, count, (i) => connectRelay(target.url, 100_000 + i));
}
