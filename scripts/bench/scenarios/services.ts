/**
 * Single services at full speed: heartbeats one presence process absorbs
 * (one gateway stream, batches as a gateway sends them), and Snowflake ids
 * in process and over gRPC in batches.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import {
  PresenceService,
  SessionEventKind,
  SessionEventSchema,
  SessionsRequestSchema,
  type SessionsRequest,
} from "@parley/contracts/parley/presence/v1/presence";
import { SnowflakeGenerator, systemClock } from "@parley/idgen";
import { AsyncQueue } from "@parley/runtime";
import { testCredentials } from "@parley/testkit";
import { startProcess } from "../../../test/support/process.js";

/** How long presenceHeartbeats waits for presence to apply another heartbeat before it gives up. */
const STALL_MS = 10_000;

export async function presenceHeartbeats(sessions = 10_000, heartbeats = 1_000_000, batch = 1_000): Promise<{ perSecond: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), "parley-presence-bench-"));
  const credentials = testCredentials();
  const proc = await startProcess(
    "services/presence/src/main.ts",
    { ...credentials.env("presence"), PRESENCE_PORT: "0", DATA_DIR: dataDir, ACCOUNT_ADDRESS: "127.0.0.1:1", PRESENCE_HEARTBEAT_TIMEOUT_MS: "600000" },
    "presence service listening",
  );
  try {
    // As a gateway: the only role that may open a sessions stream.
    const client = createClient(PresenceService, credentials.plane("gateway").transport(new URL(proc.url).host, "presence"));
    const requests = new AsyncQueue<SessionsRequest>();
    const all = Array.from({ length: sessions }, (_, i) => ({ userId: BigInt(i + 1), deviceId: BigInt(i + 1), gatewayId: "bench" }));
    requests.push(create(SessionsRequestSchema, { hello: { gatewayId: "bench", sessions: all } }));
    void (async () => {
      for await (const _ of client.sessions(requests)) void _;
    })().catch(() => undefined);
    const applied = async () => {
      const counted = /parley_presence_heartbeats_total\{outcome="applied"\} (\d+)/.exec(await (await fetch(`${proc.url}/metrics`)).text());
      if (counted === null)
        throw new Error('presence\'s /metrics has no parley_presence_heartbeats_total{outcome="applied"}: the bench reads a metric that is not there');
      return Number(counted[1]);
    };
    const started = performance.now();
    for (let sent = 0; sent < heartbeats; sent += batch) {
      const events = Array.from({ length: batch }, (_, i) => {
        const id = BigInt(((sent + i) % sessions) + 1);
        return create(SessionEventSchema, { userId: id, deviceId: id, kind: SessionEventKind.HEARTBEAT });
      });
      requests.push(create(SessionsRequestSchema, { events }));
      if (requests.size > 20) await new Promise((resolve) => setTimeout(resolve, 1)); // keep the generator from racing ahead
    }
    // Bounded: presence that stops applying heartbeats fails the scenario instead of hanging the bench.
    let seen = 0;
    let progressAt = performance.now();
    for (let count = await applied(); count < heartbeats; count = await applied()) {
      if (count > seen) [seen, progressAt] = [count, performance.now()];
      else if (performance.now() - progressAt > STALL_MS)
        throw new Error(`presence applied ${count} of ${heartbeats} heartbeats and none for ${STALL_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const perSecond = heartbeats / ((performance.now() - started) / 1000);
    requests.close();
    return { perSecond };
  } finally {
    await proc.stop("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
    credentials.close();
  }
}

/** Ids per second from the generator itself, in batches of `batch`, for about `ms`. */
export async function idgenInProcess(ms = 2_000, batch = 4_096): Promise<{ perSecond: number }> {
  const generator = new SnowflakeGenerator({ workerId: 1, clock: systemClock, maxBackwardMs: 100 });
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < ms) count += (await generator.next(batch)).length;
  return { perSecond: count / ((performance.now() - started) / 1000) };
}

/** Ids per second over gRPC from an idgen process, `inFlight` NextIds calls of `batch` at a time. */
export async function idgenOverGrpc(ms = 3_000, batch = 4_096, inFlight = 4): Promise<{ perSecond: number }> {
  const credentials = testCredentials();
  const proc = await startProcess("services/idgen/src/main.ts", { ...credentials.env("idgen"), IDGEN_PORT: "0", IDGEN_WORKER_ID: "2" }, "idgen listening");
  try {
    const client = createClient(IdGenService, credentials.plane("chat").transport(new URL(proc.url).host, "idgen"));
    let count = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() - started < ms) count += (await client.nextIds({ count: batch })).ids.length;
      }),
    );
    return { perSecond: count / ((performance.now() - started) / 1000) };
  } finally {
    await proc.stop("SIGKILL");
    credentials.close();
  }
}
