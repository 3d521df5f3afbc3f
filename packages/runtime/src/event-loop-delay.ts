import { type Histogram, monitorEventLoopDelay } from "node:perf_hooks";
import { Gauge, type Registry } from "prom-client";

/**
 * How often the event loop's delay is sampled. prom-client samples every
 * 10 ms: 100 wake-ups a second in every process, busy or idle, which cost an
 * idle process about 6 ms of CPU a second on the reference machine (0.8 ms at
 * 100 ms); the distributed mode runs six such processes. Every block of the
 * loop longer than this is still seen (it delays the sample after it).
 */
export const EVENT_LOOP_SAMPLE_MS = 50;

/**
 * nodejs_eventloop_lag_p50_seconds and nodejs_eventloop_lag_p99_seconds:
 * how late the samples of the loop fired since the last scrape. Node's
 * histogram holds the time between samples, that is the sampling period
 * plus the delay (prom-client reports it as it is, 10 ms on an idle loop);
 * the period is taken off here, so an idle loop reads 0. Returns the
 * histogram, for its sample count.
 */
export function registerEventLoopDelay(registry: Registry): Pick<Histogram, "count"> {
  const histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });
  histogram.enable();
  // A histogram without samples reads 0 at every percentile: 0 here too.
  const delaySeconds = (percentile: number) => Math.max(0, histogram.percentile(percentile) / 1e6 - EVENT_LOOP_SAMPLE_MS) / 1000;
  new Gauge({
    name: "nodejs_eventloop_lag_p50_seconds",
    help: `Median delay of the event loop since the last scrape, in seconds (sampled every ${EVENT_LOOP_SAMPLE_MS} ms)`,
    registers: [registry],
    // One collect for both gauges, as the histogram is reset after it (the p99 gauge is read after this one).
    collect() {
      this.set(delaySeconds(50));
      p99.set(delaySeconds(99));
      histogram.reset();
    },
  });
  const p99 = new Gauge({
    name: "nodejs_eventloop_lag_p99_seconds",
    help: `99th percentile delay of the event loop since the last scrape, in seconds (sampled every ${EVENT_LOOP_SAMPLE_MS} ms)`,
    registers: [registry],
  });
  return histogram;
}
