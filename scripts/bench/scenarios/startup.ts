/**
 * Start-up: Parley started as `npm start` starts it (plain Node on the built
 * output, `node bin/parley.mjs standalone` with npm start's Node flags, on a
 * fresh, empty data folder, npm start's defaults but a free port), timed
 * from the spawn until /healthz answers 200, and its resident memory right
 * then; npm start's incremental build before it is not counted (the bench
 * builds once, before every scenario). Each run is a process of its own,
 * never the benchmark's running target. The relay's counterpart is the time
 * a minimal Node + tsx process takes until it logs that it listens (the
 * relay still runs from its TypeScript source, as in earlier results).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { built, startProcess, type ServiceProcess } from "../../../test/support/process.js";
import { memoryKiB, npmStartFlags } from "../targets.js";

const HEALTH_POLL_MS = 20;
/** /healthz polls before giving up: ten seconds after the process said it runs. */
const HEALTH_POLLS = 500;

async function healthy(url: string): Promise<void> {
  for (let poll = 0; poll < HEALTH_POLLS; poll++) {
    const status = await fetch(`${url}/healthz`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  throw new Error(`startup: ${url}/healthz did not answer 200 within ${(HEALTH_POLLS * HEALTH_POLL_MS) / 1000} s`);
}

/** Times `start` from the spawn until `ready` resolves, then reads the process's memory and stops it. */
async function timed(start: () => Promise<ServiceProcess>, ready: (proc: ServiceProcess) => Promise<void>): Promise<Record<string, number>> {
  const spawned = performance.now();
  const proc = await start();
  try {
    await ready(proc);
    const ms = performance.now() - spawned;
    const memory = await memoryKiB(proc.child.pid!);
    return { "ms to healthy": ms, "RSS MiB": memory.rss / 1024, "peak RSS MiB": memory.peak / 1024 };
  } finally {
    await proc.stop("SIGTERM");
  }
}

export async function startupParley(): Promise<Record<string, number>> {
  const dataDir = await mkdtemp(join(tmpdir(), "parley-bench-startup-"));
  try {
    // The log line carries the address (PORT 0 picks a free one); /healthz then confirms the server serves.
    return await timed(
      () => startProcess(built("standalone"), { PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "info" }, "parley is running", 60_000, npmStartFlags()),
      (proc) => healthy(proc.url),
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function startupRelay(): Promise<Record<string, number>> {
  return timed(
    () => startProcess("scripts/bench/relay-server.ts", {}, "relay listening"),
    async () => {},
  );
}
