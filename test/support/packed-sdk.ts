import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./process.js";

const run = promisify(execFile);

/** The SDK and the workspaces it depends on: what a developer installs. */
export const SDK_WORKSPACES = ["packages/contracts", "packages/wire", "packages/client"] as const;

/** One tarball as `npm pack --json` describes it. */
export interface PackedTarball {
  name: string;
  filename: string;
  files: { path: string }[];
}

/** A project outside the repository with the packed SDK installed, as a developer's own would be. */
export interface SdkConsumer {
  /** The temporary folder holding `tarballs/` and the project, `app/`. */
  root: string;
  app: string;
  tarballs: PackedTarball[];
  /** Runs a command in the project, bounded; resolves with its stdout, rejects with its output. */
  exec(file: string, args: readonly string[], timeoutMs?: number): Promise<string>;
}

/**
 * Packs the SDK's workspaces (build them first) and installs the tarballs in
 * an empty ESM project: only the tarballs and their third-party
 * dependencies, from the npm cache when it has them.
 */
export async function installPackedSdk(): Promise<SdkConsumer> {
  const root = await mkdtemp(join(tmpdir(), "parley-sdk-"));
  const packs = join(root, "tarballs");
  const app = join(root, "app");
  await mkdir(packs);
  await mkdir(app);
  const exec = async (file: string, args: readonly string[], cwd: string, timeoutMs = 60_000) => {
    try {
      return (await run(file, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 })).stdout;
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      throw new Error(`${file} ${args.join(" ")} failed: ${String(err)}\n${stdout ?? ""}${stderr ?? ""}`);
    }
  };
  const workspaces = SDK_WORKSPACES.flatMap((w) => ["--workspace", w]);
  const tarballs = JSON.parse(await exec("npm", ["pack", "--json", "--pack-destination", packs, ...workspaces], REPO_ROOT)) as PackedTarball[];
  await writeFile(join(app, "package.json"), `${JSON.stringify({ name: "sdk-consumer", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`);
  const files = tarballs.map((t) => join(packs, t.filename));
  await exec("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...files], app, 90_000);
  return { root, app, tarballs, exec: (file, args, timeoutMs) => exec(file, args, app, timeoutMs) };
}
