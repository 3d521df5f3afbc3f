/**
 * `node --conditions=@parley/source --import tsx scripts/bench/stages.ts DIR [CPU_US_PER_DELIVERY]`: the
 * hot path's stages from the CPU profiles `npm run bench -- --profile DIR`
 * wrote, as shares of Parley's busy time and, given the bench's CPU µs per
 * delivery, as microseconds per delivered message (the budget in
 * docs/performance.md). Every sample is charged to the first stage found
 * walking up from the function it was in, so a stage includes what it calls
 * unless that has a stage of its own (protobuf encoding under delivery is
 * "frame encode", not "routing"); protobuf and Node internals with no stage
 * above them are charged as such.
 *
 * A thread blocked in a system call (the SQLite worker waiting for a disk
 * sync) is sampled as busy: the worker's share is wall time, an upper bound
 * on its CPU.
 *
 * Run it on a profile of one scenario (`--only pairs-max --runs 1`): set-up
 * work (sign-ups, log-ins) lands in "other".
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Stages in the order a frame meets them; each matches a function's file (and name). */
const STAGES: [stage: string, test: (url: string, fn: string) => boolean][] = [
  ["garbage collection", (_, fn) => fn === "(garbage collector)"],
  [
    "socket writes",
    (url, fn) => fn === "writev" || fn === "writeBuffer" || fn === "writeUtf8String" || /ws\/lib\/sender/.test(url) || /write-batching/.test(url),
  ],
  ["socket reads", (url, fn) => fn === "onStreamRead" || /ws\/lib\/(receiver|websocket)\.js/.test(url)],
  ["frame decode", (_, fn) => fn === "decodeClientFrame"],
  ["frame encode", (_, fn) => fn === "encodeServerFrame" || fn === "toBinary" || fn === "toJsonString"],
  ["store (PGlite, before)", (url) => /pglite|^wasm:/.test(url)],
  ["store (worker thread)", (url) => /relational\/src\/sqlite\/worker|store\/sqlite\/.*procedures|sqlite\/connection/.test(url)],
  ["store (calls and copies)", (url, fn) => /relational\/src\/sqlite\/engine|store\/sqlite\/sqlite-message-store/.test(url) || fn === "postMessage"],
  ["ids", (url) => /adapters\/idgen-ids|idgen\/src/.test(url)],
  ["limits and auth", (url) => /user-lanes|rate-limit|auth\/server-auth|access-policy|field-rules/.test(url)],
  ["in-process calls", (url) => /direct-transport|@connectrpc\/connect\//.test(url)],
  [
    "routing and delivery",
    (url) =>
      /chat\/src\/(delivery|bus|adapters\/presence-locator|locate-round|gateways)|gateway\/src\/ws\/(deliver|registry|chat-link)|presence\/src/.test(url),
  ],
  ["commands (gateway and chat)", (url) => /gateway\/src|chat\/src/.test(url)],
];
/** Charged only when no stage above matches anywhere on the stack. */
const FALLBACKS: [stage: string, test: (url: string, fn: string) => boolean][] = [
  ["protobuf (other)", (url) => /@bufbuild\/protobuf/.test(url)],
  ["Node streams and events", (url) => /^node:/.test(url)],
];

const [dir, perDelivery] = process.argv.slice(2);
if (!dir) throw new Error("usage: stages.ts PROFILE_DIR [CPU_US_PER_DELIVERY]");
const totals = new Map<string, number>();
let busy = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  const stageOf = new Map<number, string>();
  const match = (table: typeof STAGES, id: number): string | undefined => {
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      const found = table.find(([, test]) => test(url, functionName));
      if (found) return found[0];
    }
    return undefined;
  };
  const classify = (id: number): string => {
    let stage = stageOf.get(id);
    if (stage === undefined) {
      stage = match(STAGES, id) ?? match(FALLBACKS, id) ?? "other";
      stageOf.set(id, stage);
    }
    return stage;
  };
  profile.samples.forEach((id, i) => {
    const fn = byId.get(id)!.callFrame.functionName;
    if (fn === "(idle)" || fn === "(program)") return;
    const us = profile.timeDeltas[i] ?? 0;
    busy += us;
    const stage = classify(id);
    totals.set(stage, (totals.get(stage) ?? 0) + us);
  });
}
console.log(`busy CPU in the profiles: ${(busy / 1e6).toFixed(2)} s`);
console.log(`| stage | share |${perDelivery ? " µs per delivery |" : ""}`);
console.log(`|---|---|${perDelivery ? "---|" : ""}`);
for (const [stage, us] of [...totals].sort((a, b) => b[1] - a[1])) {
  const share = us / busy;
  console.log(`| ${stage} | ${(share * 100).toFixed(1)}% |${perDelivery ? ` ${(share * Number(perDelivery)).toFixed(1)} |` : ""}`);
}
