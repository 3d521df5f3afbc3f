/**
 * Search on a large store: `count` messages in one conversation, each of a
 * few words from a vocabulary with a long tail (a handful of words in
 * most messages, most words in few, as in real chat), then `searches`
 * searches one after another by a member, alternating a common word, a rare
 * one and two words together, each the first page (20 hits). Measured: each
 * search's round trip through the gateway, and the hits, which must be
 * there. The messages are stored once per target; each run searches again.
 */
import { performance } from "node:perf_hooks";
import type { BenchUser } from "../accounts.js";
import { latency } from "../stats.js";
import { connectParley } from "../wire.js";

export interface SearchResult {
  searches: number;
  p50Ms: number;
  p99Ms: number;
  /** p50 of each kind of query: a word in most messages, a word in few, two words together. */
  commonP50Ms: number;
  rareP50Ms: number;
  twoWordsP50Ms: number;
  searchesPerSecond: number;
}

const VOCABULARY = Array.from({ length: 2_000 }, (_, i) => `w${i.toString(36)}x`);

/**
 * The i-th message's words: one word of the vocabulary in turn (so every
 * word is in at least count / 2,000 messages) and five drawn Zipf-like (w0x
 * in most messages, the last words in few).
 */
function wordsOf(i: number): string {
  const words = [VOCABULARY[i % VOCABULARY.length]!];
  let seed = Math.imul(i + 1, 0x9e3779b1);
  for (let k = 0; k < 5; k++) {
    seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) >>> 0;
    const u = seed / 2 ** 32;
    words.push(VOCABULARY[Math.min(VOCABULARY.length - 1, Math.floor(VOCABULARY.length ** u) - 1)]!);
  }
  return words.join(" ");
}

/** Stores the messages (once): 64 sends in flight. */
export async function fillForSearch(url: string, sender: BenchUser, conversationId: bigint, count: number, tag: string): Promise<void> {
  const from = await connectParley(url, sender.tokens[0]!);
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        const i = next++;
        await from.send(conversationId, `${tag}-${i}`, `${wordsOf(i)} ${tag}`);
      }
    }),
  );
  await from.close();
}

export async function searchParley(url: string, reader: BenchUser, searches: number): Promise<SearchResult> {
  const device = await connectParley(url, reader.tokens[0]!);
  const queries = [VOCABULARY[0]!, VOCABULARY[1_500]!, `${VOCABULARY[2]!} ${VOCABULARY[40]!}`];
  const took: number[][] = queries.map(() => []);
  const started = performance.now();
  try {
    for (let i = 0; i < searches; i++) {
      const query = queries[i % queries.length]!;
      const t0 = performance.now();
      const reply = await device.request({ case: "searchMessages", value: { query, limit: 20 } });
      took[i % queries.length]!.push(performance.now() - t0);
      if (reply.body.case !== "searchMessages") throw new Error(`search "${query}" failed: ${reply.body.case}`);
      if (reply.body.value.hits.length === 0) throw new Error(`search "${query}" found nothing in a store that holds it`);
    }
  } finally {
    await device.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const all = latency(took.flat());
  const [common, rare, twoWords] = took.map((t) => latency(t).p50) as [number, number, number];
  return { searches, p50Ms: all.p50, p99Ms: all.p99, commonP50Ms: common, rareP50Ms: rare, twoWordsP50Ms: twoWords, searchesPerSecond: searches / seconds };
}
