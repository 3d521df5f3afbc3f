import assert from "node:assert/strict";
import type { ParleyClient } from "@parley/client";
import { until } from "@parley/testkit";

/** A device as the fault tests use it: who, its client, and what it was shown. */
export interface SendingDevice {
  name: string;
  userId: bigint;
  client: ParleyClient;
  /** Message ids in the order the device was shown them. */
  shown: bigint[];
}

type Acks = Map<string, { messageId: bigint; at: number }[]>;

/**
 * Both devices of every pair send to each other, one send at a time with
 * `pauseMs` between, from before a fault until every sender has 10 acks
 * after it: the steady load of issue 15's fault tests. `fault()` marks the
 * moment (call it just before killing); `stop()` lets the senders finish.
 */
export async function steadySends(pairs: readonly (readonly [SendingDevice, SendingDevice])[], pauseMs: number) {
  const acked: Acks = new Map();
  let faultAt = Number.POSITIVE_INFINITY;
  let sending = true;
  const pump = async (from: SendingDevice, conversationId: bigint) => {
    const mine: { messageId: bigint; at: number }[] = [];
    acked.set(from.name, mine);
    for (let i = 0; sending || mine.filter((a) => a.at > faultAt).length < 10; i++) {
      const ack = await from.client.send(conversationId, `${from.name} ${i}`);
      mine.push({ messageId: ack.messageId, at: Date.now() });
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  const pumps: Promise<void>[] = [];
  for (const [a, b] of pairs) {
    const { conversationId } = await a.client.openDirect(b.userId);
    pumps.push(pump(a, conversationId), pump(b, conversationId));
  }
  await until(() => [...acked.values()].every((list) => list.length >= 5), "traffic on every pair before the fault");
  return {
    /** Marks the fault; returns its time. */
    fault(): number {
      faultAt = Date.now();
      return faultAt;
    },
    /** Waits for every sender's 10 acks after the fault. */
    async stop(): Promise<void> {
      sending = false;
      await Promise.all(pumps);
    },
    /**
     * No sender waited more than `limitMs` (beyond its own pause) between two
     * acks after the fault, and every acked message was shown once on both
     * devices of its pair. Each sender's longest gap is logged.
     */
    async check(limitMs: number): Promise<void> {
      for (const [name, list] of acked) {
        let longest = 0;
        for (let i = 1; i < list.length; i++) if (list[i]!.at > faultAt) longest = Math.max(longest, list[i]!.at - list[i - 1]!.at);
        console.log(`${name}: longest gap between acks across the kill ${longest} ms`);
        assert.ok(longest - pauseMs <= limitMs, `${name} waited ${longest - pauseMs} ms for an ack`);
      }
      for (const [a, b] of pairs) {
        const sent = new Set([...acked.get(a.name)!, ...acked.get(b.name)!].map((x) => x.messageId));
        for (const d of [a, b]) {
          await until(() => [...sent].every((id) => d.shown.includes(id)), `${d.name} to be shown every acked message`);
          assert.equal(new Set(d.shown).size, d.shown.length, `${d.name} was shown a message twice`);
        }
      }
    },
  };
}
