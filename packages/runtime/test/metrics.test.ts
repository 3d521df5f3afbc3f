import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseExposition, sampleValue } from "@parley/testkit";
import { Metrics, codeLabel, databaseErrorKind } from "../src/metrics.js";

async function scrape(metrics: Metrics) {
  return parseExposition((await metrics.render()).body);
}

describe("metrics", () => {
  it("exposes a counter's cells from the start, at 0, and their increments", async () => {
    const metrics = new Metrics();
    const things = metrics.counter({ name: "parley_test_things_total", help: "Things, by outcome", labelNames: ["outcome"] });
    const done = things.cell({ outcome: "done" });
    things.cell({ outcome: "failed" });
    done.inc();
    done.inc(4);
    assert.equal(things.cell({ outcome: "done" }), done, "the same labels give the same cell");
    const exposition = await scrape(metrics);
    assert.equal(exposition.get("parley_test_things_total")!.type, "counter");
    assert.equal(sampleValue(exposition, "parley_test_things_total", { outcome: "done" }), 5);
    assert.equal(sampleValue(exposition, "parley_test_things_total", { outcome: "failed" }), 0);
  });

  it("exposes a histogram's cells as cumulative buckets, a sum and a count", async () => {
    const metrics = new Metrics();
    const waits = metrics.histogram({ name: "parley_test_wait_seconds", help: "Waits, in seconds", buckets: [0.1, 1] });
    const cell = waits.cell();
    for (const seconds of [0.05, 0.1, 0.5, 3]) cell.observe(seconds);
    const exposition = await scrape(metrics);
    assert.equal(exposition.get("parley_test_wait_seconds")!.type, "histogram");
    assert.equal(sampleValue(exposition, "parley_test_wait_seconds_bucket", { le: "0.1" }), 2);
    assert.equal(sampleValue(exposition, "parley_test_wait_seconds_bucket", { le: "1" }), 3);
    assert.equal(sampleValue(exposition, "parley_test_wait_seconds_bucket", { le: "+Inf" }), 4);
    assert.equal(sampleValue(exposition, "parley_test_wait_seconds_sum"), 3.65);
    assert.equal(sampleValue(exposition, "parley_test_wait_seconds_count"), 4);
  });

  it("refuses a counter not named _total and a histogram that is", () => {
    const metrics = new Metrics();
    assert.throws(() => metrics.counter({ name: "parley_test_things", help: "x" }), /_total/);
    assert.throws(() => metrics.histogram({ name: "parley_test_total", help: "x", buckets: [1] }), /_total/);
  });

  it("reads a gauge when scraped", async () => {
    const metrics = new Metrics();
    let open = 3;
    metrics.gauge<"channel">({ name: "parley_test_open", help: "Open", labelNames: ["channel"], read: (set) => set(open, { channel: "fcm" }) });
    assert.equal(sampleValue(await scrape(metrics), "parley_test_open", { channel: "fcm" }), 3);
    open = 1;
    assert.equal(sampleValue(await scrape(metrics), "parley_test_open", { channel: "fcm" }), 1);
  });

  it("still serves every other family when a gauge cannot be read", async () => {
    const metrics = new Metrics();
    metrics.gauge<"channel">({
      name: "parley_test_depth",
      help: "Depth, by channel",
      labelNames: ["channel"],
      read: async () => {
        throw new Error("the database is down");
      },
    });
    const exposition = await scrape(metrics);
    assert.deepEqual(exposition.get("parley_test_depth")?.samples ?? [], []);
    assert.ok(exposition.has("parley_database_errors_total"));
  });

  it("names status codes in snake_case, ok included", () => {
    assert.equal(codeLabel(0), "ok");
    assert.equal(codeLabel(Code.NotFound), "not_found");
    assert.equal(codeLabel(Code.DeadlineExceeded), "deadline_exceeded");
    assert.equal(codeLabel(Code.Unavailable), "unavailable");
  });

  it("tells database failures apart by kind", () => {
    assert.equal(databaseErrorKind(Object.assign(new Error("gone"), { code: "ECONNREFUSED" })), "unavailable");
    assert.equal(databaseErrorKind(Object.assign(new Error("dup"), { code: "23505" })), "constraint");
    assert.equal(databaseErrorKind(Object.assign(new Error("dup"), { code: "ERR_SQLITE_ERROR", errcode: 2067 })), "constraint");
    assert.equal(databaseErrorKind(Object.assign(new Error("retry"), { code: "40001" })), "conflict");
    assert.equal(databaseErrorKind(new Error("syntax")), "other");
  });

  it("counts etcd and database errors by operation, every series there from the start", async () => {
    const metrics = new Metrics();
    metrics.etcdError("lease");
    metrics.databaseError("transaction", new ConnectError("down", Code.Unavailable));
    const exposition = await scrape(metrics);
    assert.equal(sampleValue(exposition, "parley_etcd_errors_total", { operation: "lease" }), 1);
    assert.equal(sampleValue(exposition, "parley_etcd_errors_total", { operation: "watch" }), 0);
    assert.equal(sampleValue(exposition, "parley_database_errors_total", { operation: "transaction", kind: "unavailable" }), 1);
    assert.equal(sampleValue(exposition, "parley_database_errors_total", { operation: "query", kind: "other" }), 0);
  });

  it("keeps the process defaults that answer questions, none of them a gauge named _total", async () => {
    const exposition = await scrape(new Metrics());
    assert.ok(exposition.has("process_cpu_seconds_total"));
    assert.ok(exposition.has("process_resident_memory_bytes"));
    assert.ok(exposition.has("nodejs_eventloop_lag_p99_seconds"));
    for (const family of exposition.values()) {
      if (family.type !== "counter") assert.ok(!family.name.endsWith("_total"), `${family.name} is a ${family.type}`);
    }
  });
});
