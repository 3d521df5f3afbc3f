import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { until } from "../src/until.js";

describe("until", () => {
  it("resolves once the condition holds, checking again between pauses", async () => {
    let calls = 0;
    assert.equal(await until(() => ++calls >= 3, "the third call", { intervalMs: 1 }), true);
    assert.equal(calls, 3);
  });

  it("resolves with the value looked for, awaiting asynchronous checks", async () => {
    const seen: string[] = [];
    setTimeout(() => seen.push("hello"), 30);
    assert.equal(await until(async () => seen.find((s) => s.startsWith("hel")), "a greeting", { intervalMs: 5 }), "hello");
  });

  it("fails past the deadline, naming what it waited for", async () => {
    const started = Date.now();
    await assert.rejects(
      until(() => false, "the impossible", { timeoutMs: 50, intervalMs: 5 }),
      { message: "timed out after 50 ms waiting for the impossible" },
    );
    assert.ok(Date.now() - started < 5_000, "bounded");
  });

  it("describes the failure when it happens, so the message says what was seen by then", async () => {
    let seen = 0;
    await assert.rejects(
      until(
        () => ++seen > 1_000,
        () => `1,000 calls (saw ${seen})`,
        { timeoutMs: 30, intervalMs: 10 },
      ),
      /waiting for 1,000 calls \(saw \d+\)$/,
    );
  });

  it("fails at once when the check throws", async () => {
    await assert.rejects(
      until(() => {
        throw new Error("broken check");
      }, "anything"),
      /broken check/,
    );
  });
});
