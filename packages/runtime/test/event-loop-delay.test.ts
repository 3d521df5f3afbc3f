import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parseExposition, sampleValue } from "@parley/testkit";
import { Registry } from "prom-client";
import { EVENT_LOOP_SAMPLE_MS, registerEventLoopDelay } from "../src/event-loop-delay.js";
import { Metrics } from "../src/metrics.js";

/** Waits (bounded) until the histogram holds at least `n` samples. */
async function samples(histogram: { readonly count: number }, n: number): Promise<void> {
  for (let i = 0; histogram.count < n; i++) {
    assert.ok(i < 500, `only ${histogram.count} samples of the event loop after 500 waits`);
    await sleep(10);
  }
}

async function delays(registry: Registry) {
  const exposition = parseExposition(await registry.metrics());
  const value = (name: string) => sampleValue(exposition, name) ?? Number.NaN;
  return { p50: value("nodejs_eventloop_lag_p50_seconds"), p99: value("nodejs_eventloop_lag_p99_seconds") };
}

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: the loop is held as a CPU-bound handler would hold it
  }
}

describe("event-loop delay", () => {
  it(`samples the loop every ${EVENT_LOOP_SAMPLE_MS} ms, not every 10 ms as prom-client would`, async () => {
    const histogram = registerEventLoopDelay(new Registry());
    await samples(histogram, 1);
    const from = performance.now();
    const first = histogram.count;
    await samples(histogram, first + 4);
    // Four intervals of 40 ms at least (a slow machine only stretches them); 10 ms ones would be 4 wake-ups in 40 ms.
    assert.ok(performance.now() - from >= 4 * 40, `4 samples in ${(performance.now() - from).toFixed(1)} ms`);
  });

  it("reports how late the samples fired, without the sampling period", async () => {
    const registry = new Registry();
    const histogram = registerEventLoopDelay(registry);
    await samples(histogram, 1);
    block(200);
    // The sample due during the block fires once it ends, about 150 ms late.
    await samples(histogram, histogram.count + 2);
    const blocked = await delays(registry);
    assert.ok(blocked.p99 >= 0.12, `p99 ${blocked.p99} s after a 200 ms block`);
    // The scrape started a new window: a loop left alone reads far less than the period.
    await samples(histogram, histogram.count + 6);
    const idle = await delays(registry);
    // Below the period, which the raw histogram would read (a busy machine leaves room for some delay).
    assert.ok(idle.p50 < (EVENT_LOOP_SAMPLE_MS * 0.8) / 1000, `p50 ${idle.p50} s on a loop left alone`);
    assert.ok(idle.p99 < blocked.p99, "the block is not in the next scrape's window");
  });

  it("is what every process's /metrics shows", async () => {
    const exposition = parseExposition((await new Metrics().render()).body);
    assert.ok(exposition.has("nodejs_eventloop_lag_p50_seconds"));
    assert.ok(exposition.has("nodejs_eventloop_lag_p99_seconds"));
    assert.match(exposition.get("nodejs_eventloop_lag_p99_seconds")?.help ?? "", /sampled every 50 ms/);
  });
});
