/**
 * Idle connections: how much resident memory each authenticated, idle
 * connection costs the process holding it (from /proc, after the
 * connections settle), and how fast they are accepted.
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
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const before = await rssKiB(target.edgePid);
  const conns: { close(): Promise<void> }[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < count) conns.push(await open(next++));
    }),
  );
  const connectsPerSecond = count / ((performance.now() - started) / 1000);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const after = await rssKiB(target.edgePid);
  await Promise.all(conns.map((c) => c.close()));
  return { connections: count, kibPerConnection: (after - before) / count, connectsPerSecond };
}

export function idleParley(target: Target, tokens: string[]): Promise<IdleResult> {
  return measure(target, tokens.length, (i) => connectParley(target.url, tokens[i]!));
}

export function idleRelay(target: Target, count: number): Promise<IdleResult> {
  return measure(target, count, (i) => connectRelay(target.url, 100_000 + i));
}
