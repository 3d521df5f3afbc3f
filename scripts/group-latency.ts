/**
 * Time to deliver one message to every member of a 100-member group on
 * loopback: `npm run latency:group` (Parley embedded in this process on a
 * fresh data folder; DATABASE_URL to use Postgres) or with a URL of a running
 * Parley. 100 SDK clients, one per member; each message is timed from the
 * send until the last member's device has it. A measurement: it asserts nothing.
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

const MEMBERS = 100;
const MESSAGES = Number(process.env.LATENCY_MESSAGES ?? 200);

async function main(): Promise<void> {
  let url = process.argv[2];
  let stop = async () => {};
  if (!url) {
    const dataDir = await mkdtemp(join(tmpdir(), "parley-group-latency-"));
    const env: Record<string, string> = { DATA_DIR: dataDir, PORT: "0", ACCOUNT_SCRYPT_LOG_N: "10" };
    if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL;
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
  const users = [];
  for (let i = 0; i < MEMBERS; i++) users.push(await account(url, `grp_${suffix}_${i}`));
  const clients = users.map((u) => new ParleyClient({ url: url!.replace(/^http/, "ws"), token: u.token }));
  await Promise.all(clients.map((c) => c.connect()));
  const owner = clients[0]!;
  const group = await owner.createGroup("latency", users.slice(1).map((u) => u.userId));
  let current: { left: number; resolve: () => void } | undefined;
  const textOf = (i: number) => `probe ${i}`;
  let expected = "";
  for (const client of clients) {
    client.on("message", (m) => {
      if (current && m.text === expected && --current.left === 0) current.resolve();
    });
  }
  const times: number[] = [];
  for (let i = 0; i < MESSAGES + 20; i++) {
    expected = textOf(i);
    const started = performance.now();
    const all = new Promise<void>((resolve) => (current = { left: MEMBERS, resolve }));
    await owner.send(group.conversationId, expected);
    await all;
    if (i >= 20) times.push(performance.now() - started); // the first 20 warm up
  }
  await Promise.all(clients.map((c) => c.close()));
  await stop();
  const sorted = times.sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  console.log(`send -> delivered to all ${MEMBERS} members: median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)!.toFixed(2)} ms (n=${sorted.length})`);
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
