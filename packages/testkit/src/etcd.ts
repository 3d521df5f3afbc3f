import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePorts } from "./ports.js";

/**
 * The shared test etcd comes from PARLEY_TEST_ETCD_URL, which `npm test`
 * (scripts/test.sh) sets after making sure one runs (scripts/ensure-etcd.sh).
 * Like Postgres, never a silent default: a missing URL is an error, so etcd
 * tests cannot be skipped by accident.
 */
const URL_ENV = "PARLEY_TEST_ETCD_URL";

export function testEtcdUrl(): string {
  const value = process.env[URL_ENV];
  if (value === undefined || value.trim() === "") {
    throw new Error(
      `${URL_ENV} is not set, so the etcd tests have no server. Run the tests through \`npm test\`, ` +
        "which starts or finds an etcd and sets it (or run `bash scripts/ensure-etcd.sh` and set " +
        `${URL_ENV} to the URL it prints, such as http://127.0.0.1:22379).`,
    );
  }
  return value.trim();
}

/** A key prefix no other test run uses, so tests sharing one etcd never see each other's keys. */
export function uniqueEtcdPrefix(name: string): string {
  return `/parley-test/${name}-${process.pid}-${randomBytes(4).toString("hex")}/`;
}

/** A private etcd process, for tests that stop or restart etcd. */
export interface PrivateEtcd {
  /** Client URL, the same across restarts. */
  readonly url: string;
  readonly running: boolean;
  /** Starts it again on the same ports and data (after stop()). */
  start(): Promise<void>;
  /** Stops it: SIGTERM by default; SIGKILL for a crash. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  restart(): Promise<void>;
  /** Deletes its data while it is stopped, so the next start() is an etcd that lost everything. */
  wipe(): Promise<void>;
  /** Stops it and deletes its data folder. */
  close(): Promise<void>;
}

/** Bounds: a healthy etcd answers within a second or two even on a loaded machine. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

const running = new Set<ChildProcess>();
// A test run that dies (or forgets close()) must not leave etcd processes behind.
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts a private etcd (the `etcd` binary from the Debian package
 * etcd-server, which scripts/ensure-etcd.sh installs) on free ports below
 * 32768, with its data in a temporary folder, and waits until it is healthy.
 */
export async function startEtcd(): Promise<PrivateEtcd> {
  if (spawnSync("etcd", ["--version"], { stdio: "ignore" }).status !== 0) {
    throw new Error("the etcd binary is not installed: run `bash scripts/ensure-etcd.sh` (npm test does)");
  }
  const folder = await mkdtemp(join(tmpdir(), "parley-etcd-"));
  const dataDir = join(folder, "data");
  const [clientPort, peerPort] = await freePorts(2);
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const args = [
    "--name", "private",
    "--data-dir", dataDir,
    "--logger=zap", "--log-level=error",
    "--listen-client-urls", url, "--advertise-client-urls", url,
    "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
    "--initial-cluster", `private=${peerUrl}`,
  ];
  let child: ChildProcess | undefined;
  let output = "";

  const etcd: PrivateEtcd = {
    url,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) return;
      output = "";
      const started = spawn("etcd", args, {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...(process.arch === "arm64" ? { ETCD_UNSUPPORTED_ARCH: "arm64" } : {}) },
      });
      started.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      started.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      running.add(started);
      started.once("exit", () => running.delete(started));
      child = started;
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!(await healthy(url))) {
        if (started.exitCode !== null) throw new Error(`private etcd exited during start:\n${output.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`private etcd not healthy after ${START_TIMEOUT_MS} ms:\n${output.slice(-2000)}`);
        await sleep(100);
      }
    },
    async stop(signal = "SIGTERM") {
      const stopping = child;
      if (!stopping) return;
      child = undefined;
      if (stopping.exitCode !== null || stopping.signalCode !== null) return;
      const exited = once(stopping, "exit");
      stopping.kill(signal);
      const timer = setTimeout(() => stopping.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
    async restart() {
      await etcd.stop();
      await etcd.start();
    },
    async wipe() {
      if (child) throw new Error("wipe() needs a stopped etcd");
      await rm(dataDir, { recursive: true, force: true });
    },
    async close() {
      await etcd.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
  await etcd.start();
  return etcd;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok && ((await res.json()) as { health?: string }).health === "true";
  } catch {
    return false;
  }
}
