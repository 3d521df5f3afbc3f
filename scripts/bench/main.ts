/**
 * `npm run bench`: Parley against a raw WebSocket relay, side by side in one
 * run. This process is the load generator; Parley (embedded as `npm start`
 * runs it, or every service its own process with --distributed) and the
 * relay each run in processes of their own. Every scenario runs --runs
 * times against each; the table shows the median and range, and the ratio
 * to the relay. The result also goes to a JSON file; --compare OLD.json
 * prints the change. Any message lost or duplicated fails the run.
 *
 * Figures are measurements, never assertions: nothing here decides pass or
 * fail on speed.
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { DatabaseUpkeep } from "./database-upkeep.js";
import { MemoryOverRuns, printMemory, type MemoryFigures } from "./memory.js";
import { scenarios, type Figures, type Sizes } from "./scenarios/index.js";
import { spread, type Spread } from "./stats.js";
import { buildOutput } from "../../test/support/process.js";
import { profileInto, traceGcInto, startDistributed, startEmbedded, startRelay, type Target } from "./targets.js";

// The load generator runs with the heap tuning of Parley's processes (bin/parley.mjs says why). With
// V8's allocation-site pretenuring on, its own full collections (10-15 ms) stopped its sends and the
// overdue ones then left at once, a burst whose queueing was charged to the system measured: Parley's
// pairs-rate p99 9.35 / 8.67 / 11.04 ms -> 7.51 / 6.50 / 7.03 alternating, the relay's unchanged.
setFlagsFromString("--no-allocation-site-pretenuring");

const { values: flags } = parseArgs({
  options: {
    only: { type: "string" },
    runs: { type: "string", default: "3" },
    distributed: { type: "boolean", default: false },
    // With --distributed: internal calls in cleartext h2c (service tokens still on), to see what TLS costs.
    "internal-plaintext": { type: "boolean", default: false },
    out: { type: "string" },
    compare: { type: "string" },
    profile: { type: "string" },
    "trace-gc": { type: "string" },
    pairs: { type: "string", default: "50" },
    messages: { type: "string", default: "2000" },
    window: { type: "string", default: "16" },
    rate: { type: "string", default: "2000" },
    seconds: { type: "string", default: "15" },
    "quiet-rate": { type: "string", default: "10" },
    "quiet-seconds": { type: "string", default: "10" },
    "group-size": { type: "string", default: "100" },
    "group-rate": { type: "string", default: "20" },
    "group-seconds": { type: "string", default: "10" },
    "group-posts": { type: "string", default: "500" },
    "group-window": { type: "string", default: "8" },
    idle: { type: "string", default: "5000" },
    connects: { type: "string", default: "2000" },
    sync: { type: "string", default: "10000" },
    search: { type: "string", default: "50000" },
    searches: { type: "string", default: "300" },
    "flood-sockets": { type: "string", default: "20" },
    "flood-window": { type: "string", default: "64" },
    "flood-seconds": { type: "string", default: "6" },
    "probe-rate": { type: "string", default: "50" },
  },
});

const sizes: Sizes = {
  pairs: Number(flags.pairs),
  messages: Number(flags.messages),
  window: Number(flags.window),
  rate: Number(flags.rate),
  seconds: Number(flags.seconds),
  quietRate: Number(flags["quiet-rate"]),
  quietSeconds: Number(flags["quiet-seconds"]),
  groupSize: Number(flags["group-size"]),
  groupRate: Number(flags["group-rate"]),
  groupSeconds: Number(flags["group-seconds"]),
  groupPosts: Number(flags["group-posts"]),
  groupWindow: Number(flags["group-window"]),
  idle: Number(flags.idle),
  connects: Number(flags.connects),
  sync: Number(flags.sync),
  search: Number(flags.search),
  searches: Number(flags.searches),
  floodSockets: Number(flags["flood-sockets"]),
  floodWindow: Number(flags["flood-window"]),
  floodSeconds: Number(flags["flood-seconds"]),
  probeRate: Number(flags["probe-rate"]),
};
const runs = Number(flags.runs);
for (const [name, value] of Object.entries({ ...sizes, runs })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
}

interface Result {
  date: string;
  commit: string;
  machine: { cores: number; cpu: string; memoryGiB: number; node: string };
  mode: "embedded" | "distributed" | "distributed, internal plaintext";
  sizes: Sizes;
  runs: number;
  scenarios: Record<string, { headline: string; parley: Record<string, Spread>; relay?: Record<string, Spread> }>;
  /** Scenarios chosen but not run in this mode, with the reason. */
  skipped?: Record<string, string>;
  /** What the bench did for the database between runs, when the server would not do it itself. */
  databaseUpkeep?: string;
  /** GATEWAY_* variables the bench was run with, given to the gateway (settings under test). */
  gatewaySettings?: Record<string, string>;
  /** Per scenario and Parley process: resident memory after each run, and its growth per run (memory.ts). */
  memory?: Record<string, Record<string, MemoryFigures>>;
}

const databaseUrl = process.env.DATABASE_URL;
if (flags.distributed && !databaseUrl) throw new Error("--distributed needs DATABASE_URL (a Postgres database the services share)");
const chosen = scenarios(sizes, `b${Date.now().toString(36)}`).filter((s) => !flags.only || flags.only.split(",").includes(s.name));
if (chosen.length === 0) throw new Error(`--only names no scenario`);

const result: Result = {
  date: new Date().toISOString(),
  commit: git(["rev-parse", "--short", "HEAD"]) + (git(["status", "--porcelain"]) ? " (with local changes)" : ""),
  machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  mode: flags.distributed ? (flags["internal-plaintext"] ? "distributed, internal plaintext" : "distributed") : "embedded",
  sizes,
  runs,
  scenarios: {},
};

const gatewaySettings = Object.entries(process.env).filter(([name]) => name.startsWith("GATEWAY_"));
if (gatewaySettings.length > 0) {
  result.gatewaySettings = Object.fromEntries(gatewaySettings) as Record<string, string>;
  process.stdout.write(`gateway settings under test: ${gatewaySettings.map(([k, v]) => `${k}=${v}`).join(" ")}\n`);
}
// Both targets run the built output, as npm start and the image run it: bring it up to date first.
buildOutput();
if (flags.profile) profileInto(flags.profile);
if (flags["trace-gc"]) traceGcInto(flags["trace-gc"]);
const parley: Target = flags.distributed
  ? await startDistributed(databaseUrl!, { internalTls: !flags["internal-plaintext"] })
  : await startEmbedded(databaseUrl);
const relay = await startRelay();
const upkeep = databaseUrl ? await DatabaseUpkeep.open(databaseUrl) : undefined;
if (upkeep && !upkeep.autovacuum) {
  result.databaseUpkeep = "autovacuum is off on this server: the bench runs VACUUM ANALYZE before each run";
  process.stdout.write(`${result.databaseUpkeep}\n`);
}
const memory = new MemoryOverRuns();
let failed = false;
try {
  for (const scenario of chosen) {
    if (flags.distributed && scenario.embeddedOnly) {
      result.skipped = { ...result.skipped, [scenario.name]: `embedded only: ${scenario.embeddedOnly}` };
      process.stdout.write(`${scenario.name}: skipped with --distributed (${scenario.embeddedOnly})\n`);
      continue;
    }
    process.stdout.write(`${scenario.name}: setting up\n`);
    await scenario.setup(parley);
    const parleyRuns: Figures[] = [];
    const relayRuns: Figures[] = [];
    for (let run = 1; run <= runs; run++) {
      if (scenario.relay) relayRuns.push(await scenario.relay(relay, run));
      await upkeep?.beforeRun();
      parleyRuns.push(await scenario.parley(parley, run));
      await memory.record(scenario.name, parley);
      process.stdout.write(`${scenario.name}: run ${run} of ${runs} done\n`);
    }
    result.scenarios[scenario.name] = {
      headline: scenario.headline,
      parley: spreads(parleyRuns),
      ...(relayRuns.length > 0 ? { relay: spreads(relayRuns) } : {}),
    };
  }
} catch (err) {
  failed = true;
  console.error(`benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  await relay.stop();
  await parley.stop();
  await upkeep?.close();
}

result.memory = memory.figures();
printTable(result);
printMemory(result.memory);
const out = flags.out ?? join("bench-results", `${result.date.replace(/[:.]/g, "-")}.json`);
await mkdir(join(out, ".."), { recursive: true });
await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwritten to ${out}`);
if (flags.compare) printComparison(JSON.parse(await readFile(flags.compare, "utf8")) as Result, result);
process.exit(failed ? 1 : 0);

function spreads(runs: Figures[]): Record<string, Spread> {
  return Object.fromEntries(Object.keys(runs[0] ?? {}).map((metric) => [metric, spread(runs.map((r) => r[metric]!))]));
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return "-";
  return n >= 100 ? Math.round(n).toLocaleString("en") : n.toFixed(2);
}

function printTable(r: Result): void {
  console.log(
    `\nParley ${r.mode} (${r.commit}) vs raw relay; ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; median of ${r.runs} [range]\n`,
  );
  console.log("| scenario | metric | Parley | relay | Parley / relay |");
  console.log("|---|---|---|---|---|");
  for (const [name, s] of Object.entries(r.scenarios)) {
    for (const [metric, p] of Object.entries(s.parley)) {
      const relayed = s.relay?.[metric];
      const ratio = relayed ? `${(p.median / relayed.median).toFixed(2)}` : "";
      const cell = (x: Spread) => `${fmt(x.median)} [${fmt(x.min)}-${fmt(x.max)}]`;
      const mark = metric === s.headline ? "**" : "";
      console.log(`| ${name} | ${mark}${metric}${mark} | ${cell(p)} | ${relayed ? cell(relayed) : ""} | ${ratio} |`);
    }
  }
  for (const [name, reason] of Object.entries(r.skipped ?? {})) console.log(`\n${name}: skipped, ${reason}`);
}

function printComparison(old: Result, now: Result): void {
  console.log(`\nchange since ${old.commit} (${old.date}), Parley medians:\n`);
  for (const [name, s] of Object.entries(now.scenarios)) {
    for (const [metric, p] of Object.entries(s.parley)) {
      const before = old.scenarios[name]?.parley[metric]?.median;
      if (before === undefined) continue;
      const change = ((p.median - before) / before) * 100;
      console.log(`${name} / ${metric}: ${fmt(before)} -> ${fmt(p.median)} (${change >= 0 ? "+" : ""}${change.toFixed(1)}%)`);
    }
  }
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}
