/**
 * Time to deliver one message to every member of a 100-member group on
 * loopback: `npm run latency:group` (Parley embedded in this process on a
 * fresh data folder; DATABASE_URL to use Postgres) or with the URL of a
 * running Parley. 100 SDK clients, one per member; each message is timed from
 * the send until the last member's device has it. A measurement: it asserts nothing.
 */
import { performance } from "node:perf_hooks";
import { ParleyClient } from "@parley/client";
import { account, describeTimes, parleyToMeasure } from "./embedded-parley.js";

const MEMBERS = 100;
const MESSAGES = Number(process.env.LATENCY_MESSAGES ?? 200);
const WARM_UP = 20;

const parley = await parleyToMeasure(process.argv[2]);
const suffix = Date.now().toString(36);
const users = [];
for (let i = 0; i < MEMBERS; i++) users.push(await account(parley.url, `grp_${suffix}_${i}`));
const clients = users.map((u) => new ParleyClient({ url: parley.url.replace(/^http/, "ws"), token: u.token }));
await Promise.all(clients.map((c) => c.connect()));
const owner = clients[0]!;
const group = await owner.createGroup(
  "latency",
  users.slice(1).map((u) => u.userId),
);
let current: { text: string; left: number; resolve: () => void } | undefined;
for (const client of clients) {
  client.on("message", (m) => {
    if (current && m.text === current.text && --current.left === 0) current.resolve();
  });
}
const times: number[] = [];
for (let i = 0; i < MESSAGES + WARM_UP; i++) {
  const text = `probe ${i}`;
  const started = performance.now();
  const all = new Promise<void>((resolve) => (current = { text, left: MEMBERS, resolve }));
  await owner.send(group.conversationId, text);
  await all;
  if (i >= WARM_UP) times.push(performance.now() - started);
}
await Promise.all(clients.map((c) => c.close()));
await parley.stop();
console.log(`send -> delivered to all ${MEMBERS} members: ${describeTimes(times)}`);
