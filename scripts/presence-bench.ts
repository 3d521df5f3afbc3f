/**
 * How many heartbeats per second one presence process absorbs:
 * `npm run bench:presence`. Starts the presence service as its own process
 * (PGlite in a temporary folder), opens one gateway Sessions stream with
 * SESSIONS sessions, sends HEARTBEATS heartbeats in batches of BATCH (as a
 * gateway does, one stream message per batch), and reads presence's own
 * counter on /metrics until it has applied them all. Three runs; prints the
 * median and the range. A measurement, not a test.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PresenceService, SessionEventKind, SessionEventSchema, SessionsRequestSchema, type SessionsRequest } from "@parley/contracts/parley/presence/v1/presence";
import { AsyncQueue } from "@parley/runtime";

const SESSIONS = Number(process.env.SESSIONS ?? 10_000);
const HEARTBEATS = Number(process.env.HEARTBEATS ?? 1_000_000);
const BATCH = Number(process.env.BATCH ?? 1_000);

async function run(): Promise<number> {
  const dataDir = await mkdtemp(join(tmpdir(), "parley-presence-bench-"));
  const child = spawn(process.execPath, ["--import", "tsx", "services/presence/src/main.ts"], {
    env: { PATH: process.env.PATH ?? "", PRESENCE_PORT: "0", DATA_DIR: dataDir, ACCOUNT_ADDRESS: "127.0.0.1:1", LOG_LEVEL: "info", PRESENCE_HEARTBEAT_TIMEOUT_MS: "600000" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = /"url":"([^"]+)"/.exec(line);
      if (match) resolve(match[1]!);
    });
  });
  const client = createClient(PresenceService, createGrpcTransport({ baseUrl: url }));
  const requests = new AsyncQueue<SessionsRequest>();
  const sessions = Array.from({ length: SESSIONS }, (_, i) => ({ userId: BigInt(i + 1), deviceId: BigInt(i + 1), gatewayId: "bench" }));
  requests.push(create(SessionsRequestSchema, { hello: { gatewayId: "bench", sessions } }));
  const stream = client.sessions(requests);
  void (async () => {
    for await (const _ of stream) void _;
  })().catch(() => undefined);
  const applied = async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/parley_presence_heartbeats_total\{result="applied"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  const started = performance.now();
  for (let sent = 0; sent < HEARTBEATS; sent += BATCH) {
    const events = Array.from({ length: BATCH }, (_, i) => create(SessionEventSchema, { userId: BigInt(((sent + i) % SESSIONS) + 1), deviceId: BigInt(((sent + i) % SESSIONS) + 1), kind: SessionEventKind.HEARTBEAT }));
    requests.push(create(SessionsRequestSchema, { events }));
    if (requests.size > 20) await new Promise((resolve) => setTimeout(resolve, 1)); // keep the client from racing ahead
  }
  while ((await applied()) < HEARTBEATS) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = (performance.now() - started) / 1000;
  requests.close();
  child.kill("SIGKILL");
  await rm(dataDir, { recursive: true, force: true });
  return HEARTBEATS / seconds;
}

const rates: number[] = [];
for (let i = 0; i < 3; i++) {
  rates.push(await run());
  console.log(`run ${i + 1}: ${Math.round(rates.at(-1)!).toLocaleString("en")} heartbeats/s`);
}
rates.sort((a, b) => a - b);
console.log(`presence absorbs ${Math.round(rates[1]!).toLocaleString("en")} heartbeats/s (median of 3; range ${Math.round(rates[0]!).toLocaleString("en")}-${Math.round(rates[2]!).toLocaleString("en")}), ${SESSIONS} sessions, batches of ${BATCH}`);
process.exit(0);
