/**
 * Catch-up: a device is offline while `count` messages arrive; on
 * reconnect it pages through its inbox (Sync, the largest page) from its
 * cursor. Measured from the connect to the last message in hand.
 */
import { performance } from "node:perf_hooks";
import type { BenchUser } from "../accounts.js";
import { connectParley } from "../wire.js";

export interface SyncResult {
  messages: number;
  seconds: number;
  messagesPerSecond: number;
}

export async function syncParley(url: string, sender: BenchUser, receiver: BenchUser, conversationId: bigint, count: number, tag: string): Promise<SyncResult> {
  const from = await connectParley(url, sender.tokens[0]!);
  let sent = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (sent < count) {
        const i = sent++;
        await from.send(conversationId, `${tag}-${i}`, `${tag}:${i}`);
      }
    }),
  );
  await from.close();

  const started = performance.now();
  const device = await connectParley(url, receiver.tokens[0]!);
  const seen = new Set<number>();
  let after = device.cursorSeq;
  for (;;) {
    const reply = await device.request({ case: "sync", value: { afterSeq: after, limit: 1_000 } });
    if (reply.body.case !== "sync") throw new Error("sync failed");
    for (const entry of reply.body.value.entries) {
      after = entry.seq;
      if (entry.item.case === "message" && entry.item.value.text.startsWith(`${tag}:`)) seen.add(Number(entry.item.value.text.slice(tag.length + 1)));
    }
    if (!reply.body.value.hasMore) break;
  }
  const seconds = (performance.now() - started) / 1000;
  await device.request({ case: "ackCursor", value: { seq: after } });
  await device.close();
  if (seen.size !== count) throw new Error(`sync: ${count - seen.size} of ${count} messages missing`);
  return { messages: count, seconds, messagesPerSecond: count / seconds };
}
