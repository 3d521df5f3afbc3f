/**
 * Runs helm against the chart in helm/parley, for the chart's tests: helm itself comes from
 * install-helm.sh (installed into .tools/ on first use), its caches stay in the work tree.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { type Manifest, parseManifests } from "./kube-schema.js";

const REPO = resolve(import.meta.dirname, "../..");
export const CHART = join(REPO, "helm", "parley");

let helmPath: string | undefined;

/** The helm binary, installed on first use. */
export function helmBinary(): string {
  helmPath ??= execFileSync("bash", [join(REPO, "scripts", "helm", "install-helm.sh")], { encoding: "utf8" }).trim();
  return helmPath;
}

/** Runs helm with `args`; never throws for a non-zero exit. */
export function helm(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const home = join(REPO, ".tools", "helm-home");
  const result = spawnSync(helmBinary(), args, {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, HELM_CACHE_HOME: join(home, "cache"), HELM_CONFIG_HOME: join(home, "config"), HELM_DATA_HOME: join(home, "data") },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

export interface RenderOptions {
  /** Values files, in order (-f). */
  readonly values?: readonly string[];
  /** --set-string assignments, such as "chat.env.LOG_LEVEL=debug". */
  readonly setString?: readonly string[];
  /** --set assignments (typed: numbers stay numbers). */
  readonly set?: readonly string[];
}

/** `helm template` of the chart as release "parley" in namespace "parley"; the exit status and output. */
export function template(options: RenderOptions = {}): { status: number; stdout: string; stderr: string } {
  const args = ["template", "parley", CHART, "--namespace", "parley"];
  for (const file of options.values ?? []) args.push("-f", file);
  for (const assignment of options.setString ?? []) args.push("--set-string", assignment);
  for (const assignment of options.set ?? []) args.push("--set", assignment);
  return helm(args);
}

/** The rendered objects; throws with helm's message when the chart refuses the values. */
export function render(options: RenderOptions = {}): Manifest[] {
  const result = template(options);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr.trim()}`);
  const { manifests, problems } = parseManifests(result.stdout, "helm template");
  if (problems.length > 0) throw new Error(`helm template printed bad YAML: ${problems.map((p) => p.message).join("; ")}`);
  return manifests;
}
