import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SOURCE_NODE_FLAGS } from "@parley/testkit";

const FIXTURE = fileURLToPath(new URL("./fixtures/run-service-process.ts", import.meta.url));

/** Starts the fixture process; `lines` collects its stdout log lines as they come, `stderr` its stderr. */
function startFixture(mode: string) {
  const child = spawn(process.execPath, [...SOURCE_NODE_FLAGS, FIXTURE], { env: { ...process.env, FIXTURE_MODE: mode }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: { msg?: string; url?: string; level?: number; sigtermListeners?: number }[] = [];
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const waiters: { test: (msg: string) => boolean; resolve: () => void }[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const record = JSON.parse(line) as { msg?: string };
    lines.push(record);
    for (const waiter of waiters.filter((w) => w.test(record.msg ?? ""))) waiter.resolve();
  });
  // "close", not "exit": it comes once stdout is read to the end, so `lines` holds the last ones.
  const exited = once(child, "close") as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    logged: (msg: string) =>
      lines.some((l) => l.msg === msg) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ test: (m) => m === msg, resolve })),
  };
}

describe("runService: the one lifecycle of every process", () => {
  it("logs the ready line once started, and on SIGTERM runs stop and exits 0", async () => {
    const fixture = startFixture("ok");
    await fixture.logged("fixture listening");
    const ready = fixture.lines.find((l) => l.msg === "fixture listening");
    assert.equal(ready?.url, "http://127.0.0.1:1");
    // Regression: the handlers came after the ready line, so a SIGTERM sent on seeing it could kill the process outright.
    assert.equal(ready?.sigtermListeners, 1, "SIGTERM is handled from the moment the ready line is written");
    fixture.child.kill("SIGTERM");
    const [code] = await fixture.exited;
    assert.equal(code, 0);
    const messages = fixture.lines.map((l) => l.msg);
    assert.deepEqual(messages.slice(messages.indexOf("shutting down")), ["shutting down", "stop: leaving the registry", "stop: server closed", "stopped"]);
  });

  it("exits 1 when stop outlasts its budget plus the margin, instead of hanging", async () => {
    const fixture = startFixture("slow-stop");
    await fixture.logged("fixture listening");
    fixture.child.kill("SIGTERM");
    const [code] = await fixture.exited;
    assert.equal(code, 1);
    assert.ok(fixture.lines.some((l) => l.msg === "shutdown took too long; exiting"));
    assert.ok(!fixture.lines.some((l) => l.msg === "stop: server closed"));
  });

  it("refuses a bad configuration in plain words on stderr, before any logger", async () => {
    const fixture = startFixture("bad-config");
    const [code] = await fixture.exited;
    assert.equal(code, 1);
    assert.match(fixture.stderr(), /parley: failed to start: invalid configuration:\n {2}FIXTURE_PORT: must be a whole number/);
    assert.equal(fixture.lines.length, 0);
  });

  it("exits 1 naming the cause when starting fails", async () => {
    const fixture = startFixture("fail-start");
    const [code] = await fixture.exited;
    assert.equal(code, 1);
    assert.match(fixture.stderr(), /parley: failed to start: the database at 127\.0\.0\.1:1 refused the connection/);
    assert.ok(fixture.lines.some((l) => l.msg === "failed to start" && l.level === 60));
  });
});
