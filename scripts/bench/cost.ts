/**
 * The CPU a target spends on a measured stretch of work: its own processes
 * (all of Parley's, or the relay's one) and, when it keeps its data in
 * PostgreSQL, the database server's, each divided by the work done (messages
 * delivered, connections accepted).
 */
import { performance } from "node:perf_hooks";
import { cpuBetween, cpuSnapshot, postgresPids, threadsBetween, threadSnapshot, type CpuUse, type ThreadGroup } from "./cpu.js";
import type { Target } from "./targets.js";

export interface Cost {
  system: CpuUse;
  /** Each of the target's processes apart, when it has more than one (distributed). */
  byProcess: Map<string, CpuUse>;
  /** A one-process target's CPU seconds per thread group (which thread is the bottleneck). */
  byThread: Map<ThreadGroup, number>;
  /** The PostgreSQL server's, when the target is on Postgres. */
  database: CpuUse | undefined;
  /** This process's (the load generator shares the machine's cores with the target). */
  loadGenerator: CpuUse;
}

/** This process's CPU from Node's own count (microsecond-fine, all threads). */
function ownCpu(): { at: number; micros: number } {
  const { user, system } = process.cpuUsage();
  return { at: performance.now(), micros: user + system };
}

/**
 * Snapshots the target's CPU now; the returned function snapshots it again
 * and gives the difference. The pids are read at both ends, so a database
 * backend opened in between is counted too.
 */
export function startCost(target: Target): () => Cost {
  const processes = target.processes();
  const pids = processes.map((p) => p.pid);
  const system = cpuSnapshot(pids);
  const apart = processes.length > 1 ? processes.map((p) => ({ name: p.name, before: cpuSnapshot([p.pid]) })) : [];
  const threads = processes.length === 1 ? threadSnapshot(pids[0]!) : undefined;
  const database = target.onPostgres ? cpuSnapshot(postgresPids()) : undefined;
  const own = ownCpu();
  return () => {
    const ownAfter = ownCpu();
    const wallSeconds = (ownAfter.at - own.at) / 1000;
    const ownSeconds = (ownAfter.micros - own.micros) / 1e6;
    const loadGenerator = { cpuSeconds: ownSeconds, wallSeconds, cores: wallSeconds > 0 ? ownSeconds / wallSeconds : NaN };
    const systemAfter = cpuSnapshot(target.processes().map((p) => p.pid));
    const byProcess = new Map<string, CpuUse>();
    const now = new Map(target.processes().map((p) => [p.name, p.pid]));
    for (const { name, before } of apart) byProcess.set(name, cpuBetween(before, cpuSnapshot([now.get(name)!])));
    const databaseAfter = database ? cpuSnapshot(postgresPids()) : undefined;
    const byThread = threads ? threadsBetween(threads, threadSnapshot(pids[0]!)) : new Map<ThreadGroup, number>();
    return {
      system: cpuBetween(system, systemAfter),
      byProcess,
      byThread,
      loadGenerator,
      database: database && databaseAfter ? cpuBetween(database, databaseAfter) : undefined,
    };
  };
}

/** The figures of a cost over `count` units of work (`unit`: "delivery", "connect"). */
export function costFigures(cost: Cost, count: number, unit: string): Record<string, number> {
  const micros = (use: CpuUse) => (use.cpuSeconds * 1e6) / count;
  return {
    [`CPU µs per ${unit}`]: micros(cost.system),
    "cores used": cost.system.cores,
    ...Object.fromEntries([...cost.byProcess].map(([name, use]) => [`CPU µs per ${unit}: ${name}`, micros(use)])),
    // The rest (libuv's pool) is in the total only: it is idle in these flows, and a row of zeros says nothing.
    ...Object.fromEntries(
      [...cost.byThread].filter(([group]) => group !== "other threads").map(([group, seconds]) => [`CPU µs per ${unit}: ${group}`, (seconds * 1e6) / count]),
    ),
    ...(cost.database ? { [`database CPU µs per ${unit}`]: micros(cost.database), "database cores used": cost.database.cores } : {}),
    "load generator cores used": cost.loadGenerator.cores,
  };
}
