import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseExposition, sampleSum, sampleValue } from "../src/prometheus-text.js";

const TEXT = `# HELP parley_things_total Things done, by outcome
# TYPE parley_things_total counter
parley_things_total{outcome="ok"} 3
parley_things_total{outcome="quote \\" and \\\\ and \\n"} 1

# HELP parley_wait_seconds Time waited, in seconds
# TYPE parley_wait_seconds histogram
parley_wait_seconds_bucket{le="0.1"} 1
parley_wait_seconds_bucket{le="+Inf"} 2
parley_wait_seconds_sum 0.75
parley_wait_seconds_count 2

# HELP parley_open Open things
# TYPE parley_open gauge
parley_open 7
`;

describe("prometheus text exposition reader", () => {
  it("reads families with their help, type and samples, a histogram's _bucket, _sum and _count under its name", () => {
    const families = parseExposition(TEXT);
    assert.deepEqual([...families.keys()], ["parley_things_total", "parley_wait_seconds", "parley_open"]);
    assert.equal(families.get("parley_things_total")!.type, "counter");
    assert.equal(families.get("parley_wait_seconds")!.help, "Time waited, in seconds");
    assert.deepEqual(
      families.get("parley_wait_seconds")!.samples.map((s) => s.name),
      ["parley_wait_seconds_bucket", "parley_wait_seconds_bucket", "parley_wait_seconds_sum", "parley_wait_seconds_count"],
    );
    assert.equal(sampleValue(families, "parley_wait_seconds_bucket", { le: "+Inf" }), 2);
    assert.equal(sampleValue(families, "parley_open"), 7);
  });

  it("unescapes label values and sums the samples that match", () => {
    const families = parseExposition(TEXT);
    assert.equal(families.get("parley_things_total")!.samples[1]!.labels.outcome, 'quote " and \\ and \n');
    assert.equal(sampleSum(families, "parley_things_total"), 4);
    assert.equal(sampleValue(families, "parley_things_total", { outcome: "none" }), undefined);
  });

  it("refuses a line that is not a sample, naming it", () => {
    assert.throws(() => parseExposition("parley_x{a=1} 2\n"), /line 1/);
  });
});
