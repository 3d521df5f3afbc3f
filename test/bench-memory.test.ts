import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryOverRuns } from "../scripts/bench/memory.js";

const MiB = 2 ** 20;

describe("the bench's memory per run", () => {
  it("reports a process's resident memory after each run and how much it grew per run", async () => {
    const memory = new MemoryOverRuns();
    const target = { processes: () => [{ name: "parley", pid: process.pid }] };
    const kept: Buffer[] = [];
    await memory.record("pairs-rate", target);
    for (let run = 2; run <= 3; run++) {
      kept.push(Buffer.alloc(64 * MiB, run)); // written, so resident: what a leak of 64 MiB a run looks like
      await memory.record("pairs-rate", target);
    }
    const { afterEachRun, growthPerRun } = memory.figures()["pairs-rate"]!.parley!;
    assert.equal(afterEachRun.length, 3);
    assert.ok(
      afterEachRun.every((mib) => mib > 10),
      `plausible sizes in MiB: ${afterEachRun.join(", ")}`,
    );
    assert.ok(growthPerRun !== undefined && growthPerRun > 48 && growthPerRun < 80, `about 64 MiB a run, not ${growthPerRun}`);
    assert.equal(kept.length, 2);
  });

  it("gives no growth across a restart, nor with a single run", async () => {
    const memory = new MemoryOverRuns();
    let pid = process.pid;
    const target = { processes: () => [{ name: "gateway", pid }] };
    await memory.record("idle", target);
    pid = process.ppid; // the gateway came back as another process
    await memory.record("idle", target);
    await memory.record("once", target);
    const figures = memory.figures();
    assert.equal(figures.idle!.gateway!.afterEachRun.length, 2);
    assert.equal(figures.idle!.gateway!.growthPerRun, undefined);
    assert.equal(figures.once!.gateway!.growthPerRun, undefined);
  });

  it("records a process that has gone as unknown, not as a failed run", async () => {
    const memory = new MemoryOverRuns();
    await memory.record("pairs-max", { processes: () => [{ name: "chat", pid: 2 ** 22 + 1 }] }); // above Linux's pid limit
    assert.ok(Number.isNaN(memory.figures()["pairs-max"]!.chat!.afterEachRun[0]));
  });
});
