/**
 * What a run costs in CPU: the user + system time of a set of processes
 * between two snapshots, from /proc/<pid>/stat (Linux). A process's stat
 * counts all of its threads, live and exited, so one read per process is
 * enough. The kernel counts in clock ticks (normally 100 a second, 10 ms
 * each): measure over whole runs of seconds, never a tiny window.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** Clock ticks per second, as the kernel counts utime and stime. */
const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** A process's CPU so far, in ticks, keyed by pid and start time so a reused pid is never mistaken for the old process. */
export type CpuSnapshot = { at: number; ticks: Map<string, number> };

export interface CpuUse {
  /** User + system CPU seconds between the snapshots. */
  cpuSeconds: number;
  wallSeconds: number;
  /** CPU seconds per wall second: how many cores the processes kept busy. */
  cores: number;
}

/**
 * utime, stime and starttime of one process, or undefined when it has
 * exited. The command name (field 2) is in parentheses and may hold spaces,
 * so fields are counted from the last ')'.
 */
function readStat(pid: number): { ticks: number; started: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // After the ')' come field 3 (state) onwards: utime is field 14, stime 15, starttime 22.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { ticks: Number(fields[14 - 3]) + Number(fields[15 - 3]), started: fields[22 - 3]! };
}

/** The CPU each of `pids` has used so far, read synchronously so the snapshot sits right at the point it is taken. */
export function cpuSnapshot(pids: readonly number[]): CpuSnapshot {
  const ticks = new Map<string, number>();
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat) ticks.set(`${pid}:${stat.started}`, stat.ticks);
  }
  return { at: performance.now(), ticks };
}

/**
 * The CPU used between two snapshots. A process that appeared in between
 * counts from zero (all its CPU fell in the interval); one that exited in
 * between is missing from `after` and its last stretch is lost, which is why
 * the sampled processes should be long-lived.
 */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  let ticks = 0;
  for (const [key, now] of after.ticks) ticks += now - (before.ticks.get(key) ?? 0);
  const cpuSeconds = ticks / TICKS_PER_SECOND;
  const wallSeconds = (after.at - before.at) / 1000;
  return { cpuSeconds, wallSeconds, cores: wallSeconds > 0 ? cpuSeconds / wallSeconds : NaN };
}

/** The thread groups of one Node process, by the names Node and V8 give their threads. */
export type ThreadGroup = "main thread" | "worker threads" | "V8 helper threads" | "other threads";

function groupOf(comm: string): ThreadGroup {
  if (comm === "MainThread" || comm === "node") return "main thread";
  if (comm === "WorkerThread") return "worker threads";
  if (comm.startsWith("V8 ") || comm.startsWith("V8Worker")) return "V8 helper threads";
  return "other threads";
}

/**
 * The CPU of one process's threads so far, in ticks per group: the main
 * thread (sockets and, in the embedded mode, every service's JavaScript),
 * worker threads (the SQLite store and its checkpointer), V8's helper
 * threads (parallel garbage collection, compilation) and the rest (libuv's
 * pool). Threads are keyed by id and start time; one that exited in between
 * loses its last stretch, as processes do in cpuBetween.
 */
export function threadSnapshot(pid: number): Map<string, { group: ThreadGroup; ticks: number }> {
  const threads = new Map<string, { group: ThreadGroup; ticks: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      threads.set(`${tid}:${fields[22 - 3]}`, { group: groupOf(comm), ticks: Number(fields[14 - 3]) + Number(fields[15 - 3]) });
    } catch {
      // exited while reading
    }
  }
  return threads;
}

/** CPU seconds per thread group between two thread snapshots of one process. */
export function threadsBetween(
  before: Map<string, { group: ThreadGroup; ticks: number }>,
  after: Map<string, { group: ThreadGroup; ticks: number }>,
): Map<ThreadGroup, number> {
  const seconds = new Map<ThreadGroup, number>();
  for (const [key, { group, ticks }] of after) {
    seconds.set(group, (seconds.get(group) ?? 0) + (ticks - (before.get(key)?.ticks ?? 0)) / TICKS_PER_SECOND);
  }
  return seconds;
}

/**
 * Every PostgreSQL server process on this machine (the postmaster, its
 * background workers and one backend per connection): they are not the
 * benchmark's children, so they are found by their command name. This is the
 * whole server, including work for any other client it has.
 */
export function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "postgres") pids.push(Number(entry));
    } catch {
      // exited while scanning
    }
  }
  return pids;
}
