/**
 * Log-ins to a running server: how fast it accepts authenticated
 * connections and what each costs in CPU. Parley's count from the first
 * upgrade request to the last `welcome` frame (the token checked, the
 * device's cursor read and the socket registered); the relay, which has no
 * authentication, counts plain WebSocket opens. Every socket is closed
 * after the measured stretch, outside it.
 */
import { performance } from "node:perf_hooks";
import { costFigures, startCost } from "../cost.js";
import type { Target } from "../targets.js";
import { connectParley, connectRelay } from "../wire.js";

/** Connections being opened at once: a connect storm, yet short of the listen backlog. */
const IN_FLIGHT = 200;

/** Relay ids for these sockets, clear of the ones the pair and group flows use. */
const RELAY_IDS_FROM = 200_000;

async function storm(target: Target, count: number, open: (i: number) => Promise<{ close(): Promise<void> }>): Promise<Record<string, number>> {
  const conns: { close(): Promise<void> }[] = [];
  let next = 0;
  let failed = false;
  const cost = startCost(target);
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: Math.min(IN_FLIGHT, count) }, async () => {
        while (next < count && !failed) {
          try {
            conns.push(await open(next++));
          } catch (err) {
            failed = true;
            throw err;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { "connects per second": count / seconds, ...costFigures(cost(), count, "connect") };
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
}

/** Opens one authenticated connection per token, IN_FLIGHT at a time. */
export function connectsParley(target: Target, tokens: string[]): Promise<Record<string, number>> {
  return storm(target, tokens.length, (i) => connectParley(target.url, tokens[i]!));
}

export function connectsRelay(target: Target, count: number): Promise<Record<string, number>> {
  return storm(target, count, (i) => connectRelay(target.url, RELAY_IDS_FROM + i));
}
