/**
 * The CPU a target spends on a measured stretch of work: its own processes
 * (all of Parley's, or the relay's one) and, when it keeps its data in
 * PostgreSQL, the database server's, each divided by the work done (messages
 * delivered, connections accepted).
 */
import { cpuBetween, cpuSnapshot, postgresPids, type CpuUse } from "./cpu.js";
import type { Target } from "./targets.js";

export interface Cost {
  system: CpuUse;
  /** The PostgreSQL server's, when the target is on Postgres. */
  database: CpuUse | undefined;
}

/**
 * Snapshots the target's CPU now; the returned function snapshots it again
 * and gives the difference. The pids are read at both ends, so a database
 * backend opened in between is counted too.
 */
export function startCost(target: Target): () => Cost {
  const system = cpuSnapshot(target.pids());
  const database = target.onPostgres ? cpuSnapshot(postgresPids()) : undefined;
  return () => {
    const systemAfter = cpuSnapshot(target.pids());
    const databaseAfter = database ? cpuSnapshot(postgresPids()) : undefined;
    return { system: cpuBetween(system, systemAfter), database: database && databaseAfter ? cpuBetween(database, databaseAfter) : undefined };
  };
}

/** The figures of a cost over `count` units of work (`unit`: "delivery", "connect"). */
export function costFigures(cost: Cost, count: number, unit: string): Record<string, number> {
  const micros = (use: CpuUse) => (use.cpuSeconds * 1e6) / count;
  return {
    [`CPU µs per ${unit}`]: micros(cost.system),
    "cores used": cost.system.cores,
    ...(cost.database ? { [`database CPU µs per ${unit}`]: micros(cost.database), "database cores used": cost.database.cores } : {}),
  };
}
