/**
 * Send-to-delivery latency on loopback, one message in flight at a time:
 * `npm run latency` (starts Parley embedded in this process on a fresh data
 * folder) or `npm run latency -- http://127.0.0.1:8080` (a running Parley).
 * A measurement, not a test: it asserts nothing. The benchmark (issue 7)
 * replaces it with load from a separate process.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ParleyClient } from "@parley/client";
import { loadAccountConfig } from "@parley/account";
import { loadChatConfig } from "@parley/chat";
import { loadPresenceConfig } from "@parley/presence";
import { loadGatewayConfig } from "@parley/gateway";
import { loadIdgenConfig } from "@parley/idgen";
import { createLogger } from "@parley/runtime";
import { startEmbedded } from "@parley/standalone";

const COUNT = Number(process.env.LATENCY_MESSAGES ?? 1000);

async function main(): Promise<void> {
  let url = process.argv[2];
  let stop = async () => {};
  if (!url) {
    const dataDir = await mkdtemp(join(tmpdir(), "parley-latency-"));
    const env: Record<string, string> = { DATA_DIR: dataDir, PORT: "0", ACCOUNT_SCRYPT_LOG_N: "12", GATEWAY_FRAMES_PER_SECOND: "100000", GATEWAY_FRAME_BURST: "100000" };
    if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL; // the embedded mode on a Postgres server
    const parley = await startEmbedded(
      { account: loadAccountConfig(env), idgen: loadIdgenConfig(env), chat: loadChatConfig(env), presence: loadPresenceConfig(env), gateway: loadGatewayConfig(env), internalPort: undefined },
      (service) => createLogger(service, "warn"),
    );
    url = parley.gateway.url;
    stop = async () => {
      await parley.close(1_000);
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const suffix = Date.now().toString(36);
  const [a, b] = [await account(url, `lat_a_${suffix}`), await account(url, `lat_b_${suffix}`)];
  const alice = new ParleyClient({ url: url.replace(/^http/, "ws"), token: a.token });
  const bob = new ParleyClient({ url: url.replace(/^http/, "ws"), token: b.token });
  await Promise.all([alice.connect(), bob.connect()]);
  const conversation = await alice.openDirect(b.userId);
  const deliveries: number[] = [];
  const acks: number[] = [];
  for (let i = 0; i < COUNT + 50; i++) {
    const started = performance.now();
    const delivered = new Promise<number>((resolve) => {
      const off = bob.on("message", () => {
        off();
        resolve(performance.now());
      });
    });
    await alice.send(conversation.conversationId, `latency probe ${i}`);
    const ackAt = performance.now();
    const deliveredAt = await delivered;
    if (i >= 50) {
      // the first 50 warm up the JIT and connections
      acks.push(ackAt - started);
      deliveries.push(deliveredAt - started);
    }
  }
  await Promise.all([alice.close(), bob.close()]);
  await stop();
  const report = (name: string, values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
    console.log(`${name}: median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)!.toFixed(2)} ms (n=${values.length})`);
  };
  report("send -> deliver", deliveries);
  report("send -> ack", acks);
}

async function account(url: string, username: string): Promise<{ token: string; userId: bigint }> {
  const call = async (method: string, body: unknown) =>
    (await (await fetch(`${url}/parley.account.v1.AccountService/${method}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json()) as any;
  await call("SignUp", { username, password: "correct horse battery" });
  const login = await call("LogIn", { username, password: "correct horse battery", deviceName: "latency" });
  return { token: login.session.accessToken, userId: BigInt(login.profile.userId) };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
