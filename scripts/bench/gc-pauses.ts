/**
 * Summarises the garbage collector's pauses from `npm run bench -- --trace-gc
 * DIR`: for each process log and each isolate in it (the main thread and
 * each worker thread have their own heap), how many scavenges and
 * mark-compacts ran, how long they stopped the thread (p50 / p90 / max),
 * how often scavenges came, and the share of the time they cover. A message
 * that arrives while its thread is paused waits for the pause to end, so
 * this is where a latency tail made of collections shows.
 *
 *   node --conditions=@parley/source --import tsx scripts/bench/gc-pauses.ts DIR [FROM_MS]
 *
 * FROM_MS skips the events before that many milliseconds of the isolate's
 * life (the set-up before the measured stretch).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { latency } from "./stats.js";

// "[pid:0xISOLATE]    1234 ms: Scavenge 12.3 (20.1) -> 11.0 (20.1) MB, pooled: 0 MB, 3.21 / 0.00 ms ..."
const EVENT = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-Sweep)\b.*?MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

interface Event {
  at: number;
  kind: string;
  pauseMs: number;
}

const [dir, fromArg] = process.argv.slice(2);
if (!dir) throw new Error("usage: gc-pauses.ts DIR [FROM_MS]");
const from = Number(fromArg ?? 0);

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith(".log"))
  .sort()) {
  const byIsolate = new Map<string, Event[]>();
  for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
    const m = EVENT.exec(line);
    if (!m || Number(m[2]) < from) continue;
    const events = byIsolate.get(m[1]!) ?? [];
    events.push({ at: Number(m[2]), kind: m[3]!, pauseMs: Number(m[4]) });
    byIsolate.set(m[1]!, events);
  }
  // The isolate with the most collections first: that is the main thread under load.
  for (const [isolate, events] of [...byIsolate].sort((a, b) => b[1].length - a[1].length)) {
    const span = events.at(-1)!.at - events[0]!.at;
    const total = events.reduce((sum, e) => sum + e.pauseMs, 0);
    process.stdout.write(
      `${file} ${isolate}: ${events.length} collections over ${(span / 1000).toFixed(1)} s, paused ${((100 * total) / Math.max(span, 1)).toFixed(2)}% of it\n`,
    );
    for (const kind of new Set(events.map((e) => e.kind))) {
      const of = events.filter((e) => e.kind === kind);
      const pause = latency(of.map((e) => e.pauseMs));
      const gaps = of.slice(1).map((e, i) => e.at - of[i]!.at);
      const every = gaps.length > 0 ? `, every ${latency(gaps).p50.toFixed(0)} ms (median)` : "";
      process.stdout.write(
        `  ${kind}: ${of.length}, pause p50 ${pause.p50.toFixed(2)} / p95 ${pause.p95.toFixed(2)} / max ${pause.max.toFixed(2)} ms${every}\n`,
      );
    }
  }
}
