import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { SOURCE_NODE_FLAGS } from "@parley/testkit";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A process's name for the launcher (`node bin/parley.mjs <name>`), which runs its built main. */
export type LauncherName = "standalone" | "account" | "idgen" | "chat" | "presence" | "notify" | "discovery" | "gateway";

/**
 * What a process runs: a TypeScript main (relative to the repository), run
 * from sources with Node and tsx's loader in one process (the tsx launcher
 * would run the service as a grandchild that survives a SIGKILL sent to the
 * launcher), or `built(name)`: the compiled output through the launcher,
 * plain Node, as the image runs it (`npm run build` first).
 */
export type Entry = string | { readonly built: LauncherName };

export function built(name: LauncherName): Entry {
  return { built: name };
}

/**
 * Brings the built output up to date, as `npm run build` does (tsc -b:
 * incremental, so well under a second when nothing changed); throws with
 * the compiler's messages when it fails.
 */
export function buildOutput(): void {
  try {
    execFileSync(join(REPO_ROOT, "node_modules/.bin/tsc"), ["-b", "tsconfig.build.json"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build failed:\n${stdout?.toString() ?? ""}${stderr?.toString() ?? ""}`);
  }
}

function describeEntry(entry: Entry): string {
  return typeof entry === "string" ? entry : `bin/parley.mjs ${entry.built}`;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** The base URL the process logged as its address. */
  readonly url: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code (null when killed by a signal) once the output is all read. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `entry` as its own Node process with only the given environment on top of PATH, and waits
 * until it logs a line with `readyMessage` and a url (JSON logs).
 */
export async function startProcess(
  entry: Entry,
  env: Record<string, string>,
  readyMessage: string,
  timeoutMs = 30_000,
  /** Node's own flags before the entry (those of an npm script, such as heap sizes). */
  nodeFlags: readonly string[] = [],
): Promise<ServiceProcess> {
  const child = spawnEntry(entry, env, nodeFlags);
  let output = "";
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  // "close", not "exit": it comes once the output is read to the end too, so output() after
  // stop() holds the last lines ("stopped"), which "exit" can precede on a busy machine.
  const exited = once(child, "close");
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${describeEntry(entry)} did not become ready in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    lines.on("line", (line) => {
      output += `${line}\n`;
      try {
        const record = JSON.parse(line) as { msg?: string; url?: string; api?: string };
        const address = record.url ?? record.api;
        if (record.msg?.includes(readyMessage) && address) {
          clearTimeout(timer);
          resolve(address);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`${describeEntry(entry)} exited with ${code} before becoming ready:\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Runs `entry` to completion (for start-up failures) and returns its exit code and output. */
export async function runToExit(entry: Entry, env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const child = spawnEntry(entry, env);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code] = await once(child, "close"); // after the output is read to the end, as in startProcess
  clearTimeout(timer);
  return { code: code as number | null, output };
}

/** The entry as a child process with only `env` on top of PATH (no inherited configuration). */
function spawnEntry(entry: Entry, env: Record<string, string>, nodeFlags: readonly string[] = []): ChildProcess {
  const args = typeof entry === "string" ? [...SOURCE_NODE_FLAGS, entry] : ["bin/parley.mjs", entry.built];
  return spawn(process.execPath, [...nodeFlags, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}
