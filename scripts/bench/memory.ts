/**
 * Resident memory of each of Parley's processes at the end of every run.
 * A process that keeps what it no longer needs grows run after run, while
 * a healthy one levels off once its first run has warmed it: the leak found
 * on 2026-12-01 (every internal stream kept each message it carried) grew
 * chat, presence and the gateway by tens of MB over four runs, and no
 * figure of the bench showed it. Growth is reported per run after the
 * first, and only across runs of the same process (a scenario that
 * restarts the gateway measures a fresh heap each time).
 */
import { memoryKiB, type Target } from "./targets.js";

/** One process's resident memory after each run, MiB, and its pid then. */
interface Series {
  mib: number[];
  pids: number[];
}

export interface MemoryFigures {
  /** MiB after each run, in order. */
  afterEachRun: number[];
  /** (last - first) / (runs - 1), MiB; absent with one run or when the process was restarted between runs. */
  growthPerRun?: number;
}

export class MemoryOverRuns {
  private readonly series = new Map<string, Map<string, Series>>();

  /** Reads every process's resident memory now (call it at the end of a run). */
  async record(scenario: string, target: Pick<Target, "processes">): Promise<void> {
    const byProcess = this.series.get(scenario) ?? new Map<string, Series>();
    this.series.set(scenario, byProcess);
    for (const { name, pid } of target.processes()) {
      const { rss } = await memoryKiB(pid).catch(() => ({ rss: Number.NaN }));
      const series = byProcess.get(name) ?? { mib: [], pids: [] };
      byProcess.set(name, series);
      series.mib.push(rss / 1024);
      series.pids.push(pid);
    }
  }

  figures(): Record<string, Record<string, MemoryFigures>> {
    const out: Record<string, Record<string, MemoryFigures>> = {};
    for (const [scenario, byProcess] of this.series) {
      out[scenario] = {};
      for (const [name, { mib, pids }] of byProcess) {
        const sameProcess = pids.every((pid) => pid === pids[0]);
        const growth = mib.length > 1 && sameProcess ? (mib[mib.length - 1]! - mib[0]!) / (mib.length - 1) : undefined;
        out[scenario][name] = { afterEachRun: mib, ...(growth === undefined ? {} : { growthPerRun: growth }) };
      }
    }
    return out;
  }
}

export function printMemory(figures: Record<string, Record<string, MemoryFigures>>): void {
  console.log("\nResident memory of Parley's processes after each run (MiB); growth per run after the first:\n");
  console.log("| scenario | process | after each run | growth per run |");
  console.log("|---|---|---|---|");
  for (const [scenario, byProcess] of Object.entries(figures)) {
    for (const [name, { afterEachRun, growthPerRun }] of Object.entries(byProcess)) {
      const growth = growthPerRun === undefined ? "-" : `${growthPerRun >= 0 ? "+" : ""}${growthPerRun.toFixed(1)}`;
      console.log(`| ${scenario} | ${name} | ${afterEachRun.map((m) => m.toFixed(0)).join(", ")} | ${growth} |`);
    }
  }
}
