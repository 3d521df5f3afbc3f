/**
 * Send-to-delivery latency on loopback, one message in flight at a time:
 * `npm run latency` (starts Parley embedded in this process on a fresh data
 * folder; DATABASE_URL to use Postgres) or `npm run latency -- http://127.0.0.1:8080`
 * (a running Parley). A measurement, not a test: it asserts nothing. The
 * benchmark (issue 7) adds load from a separate process.
 */
import { performance } from "node:perf_hooks";
import { ParleyClient } from "@parley/client";
import { account, describeTimes, parleyToMeasure } from "./embedded-parley.js";

const COUNT = Number(process.env.LATENCY_MESSAGES ?? 1000);
const WARM_UP = 50;

const parley = await parleyToMeasure(process.argv[2], { GATEWAY_FRAMES_PER_SECOND: "100000", GATEWAY_FRAME_BURST: "100000" });
const suffix = Date.now().toString(36);
const [a, b] = [await account(parley.url, `lat_a_${suffix}`), await account(parley.url, `lat_b_${suffix}`)];
const alice = new ParleyClient({ url: parley.url.replace(/^http/, "ws"), token: a.token });
const bob = new ParleyClient({ url: parley.url.replace(/^http/, "ws"), token: b.token });
await Promise.all([alice.connect(), bob.connect()]);
const conversation = await alice.openDirect(b.userId);
const deliveries: number[] = [];
const acks: number[] = [];
for (let i = 0; i < COUNT + WARM_UP; i++) {
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
  if (i >= WARM_UP) {
    acks.push(ackAt - started);
    deliveries.push(deliveredAt - started);
  }
}
await Promise.all([alice.close(), bob.close()]);
await parley.stop();
console.log(`send -> deliver: ${describeTimes(deliveries)}`);
console.log(`send -> ack: ${describeTimes(acks)}`);
