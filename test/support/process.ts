import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
// Node with tsx's loader, in one process: the tsx launcher would run the
// service as a grandchild that survives a SIGKILL sent to the launcher.
const NODE_ARGS = ["--import", "tsx"];

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
 * Starts `entry` (a TypeScript main, relative to the repository) as its own
 * Node process with only the given environment on top of PATH, and waits
 * until it logs a line with `readyMessage` and a url (JSON logs).
 */
export async function startProcess(
  entry: string,
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
    const timer = setTimeout(() => reject(new Error(`${entry} did not become ready in ${timeoutMs} ms:\n${output}`)), timeoutMs);
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
      reject(new Error(`${entry} exited with ${code} before becoming ready:\n${output}`));
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
export async function runToExit(entry: string, env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
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
function spawnEntry(entry: string, env: Record<string, string>, nodeFlags: readonly string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, ...NODE_ARGS, entry], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}
