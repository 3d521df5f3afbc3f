/**
 * What the benchmark measures, each in processes of its own: Parley as
 * `npm start` runs it (embedded, the built output), or every service as its
 * own process on Postgres (`--distributed`, the built output through the
 * launcher with the image's Node flags, as the image and the chart run
 * them), and the raw relay.
 */
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testCredentials } from "@parley/testkit";
import { built, REPO_ROOT, startProcess, type LauncherName, type ServiceProcess } from "../../test/support/process.js";

export interface Target {
  /** The HTTP base URL (Parley) or ws:// URL (relay); changes on restart. */
  url: string;
  /** The process holding the client connections (the gateway), for RSS; changes on restart. */
  edgePid: number;
  /** Every process of the system by name, for its CPU time: the edge and, distributed, each service (the edge's pid changes on restart). */
  processes(): { name: string; pid: number }[];
  /** Whether the system keeps its data in a PostgreSQL server, whose CPU is then measured too. */
  onPostgres: boolean;
  /**
   * Restarts the process holding the connections on the same data, so memory is measured from a fresh heap;
   * `env` is laid over the target's environment until the next restart (an empty value means the default).
   */
  restart(env?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The limits a benchmark must lift: the per-user frame rate (a load
 * generator sends far faster than a person), the password hashing cost
 * (thousands of log-ins during setup) and the sign-ups per address (all from
 * the load generator's). Nothing else differs from npm start.
 */
const BENCH_ENV: Record<string, string> = {
  ACCOUNT_SCRYPT_LOG_N: "10",
  ACCOUNT_SIGNUPS_PER_ADDRESS: "0",
  GATEWAY_FRAMES_PER_SECOND: "100000",
  GATEWAY_FRAME_BURST: "100000",
  LOG_LEVEL: "warn",
  NOTIFY_RATE_LIMIT: "0",
};

/** `--profile DIR`: Parley's processes write V8 CPU profiles there on exit (open them in Chrome DevTools or speedscope). */
export function profileInto(dir: string): void {
  BENCH_ENV.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${dir}`;
}

/** `--trace-gc DIR`: Parley's processes log every garbage collection, and each one's output goes to DIR/<name>.log when it stops. */
let gcLogDir: string | undefined;
export function traceGcInto(dir: string): void {
  gcLogDir = dir;
}
/** Node's flags for a Parley process: --trace-gc is refused in NODE_OPTIONS, so it goes on the command line. */
const extraNodeFlags = () => (gcLogDir ? ["--trace-gc"] : []);
async function keepGcLog(name: string, proc: ServiceProcess): Promise<void> {
  if (!gcLogDir) return;
  await mkdir(gcLogDir, { recursive: true });
  await writeFile(join(gcLogDir, `${name}.log`), proc.output());
}

/**
 * A target around the process holding the connections, restartable on the
 * same data; `others` are the target's other processes (not restarted),
 * `cleanup` runs after it stops.
 */
async function restartable(
  start: (env: Record<string, string>) => Promise<ServiceProcess>,
  options: { name: string; onPostgres: boolean; others?: { name: string; proc: ServiceProcess }[]; cleanup?: () => Promise<void> },
): Promise<Target> {
  let proc = await start({});
  const target: Target = {
    url: proc.url,
    edgePid: proc.child.pid!,
    processes: () => [{ name: options.name, proc }, ...(options.others ?? [])].map(({ name, proc }) => ({ name, pid: proc.child.pid! })),
    onPostgres: options.onPostgres,
    async restart(env = {}) {
      await proc.stop("SIGTERM");
      await keepGcLog(options.name, proc);
      proc = await start(env);
      target.url = proc.url;
      target.edgePid = proc.child.pid!;
    },
    async stop() {
      await proc.stop("SIGTERM");
      await keepGcLog(options.name, proc);
      await options.cleanup?.();
    },
  };
  return target;
}

/**
 * Node's flags of `npm start` (package.json's start script, such as the
 * young generation's size), so the embedded target runs exactly as npm
 * start does.
 */
export function npmStartFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  // "tsc -b ... && node apps/web/build.mjs && exec node <flags> bin/parley.mjs standalone": the words between the last node and the launcher.
  const words = pkg.scripts.start.split(/\s+/);
  const launcher = words.indexOf("bin/parley.mjs");
  // The node that runs the launcher (earlier commands of the script, such as the web app's build, run node too).
  const node = words.lastIndexOf("node", launcher);
  if (node < 0 || launcher < node) throw new Error(`package.json's start script does not run node bin/parley.mjs: ${pkg.scripts.start}`);
  return words.slice(node + 1, launcher);
}

/**
 * The bench's own GATEWAY_* variables (GATEWAY_CHAT_BATCHES_IN_FLIGHT=2 npm run bench ...),
 * laid over the gateway's environment: settings under test, compared run against run.
 */
function gatewaySettingsUnderTest(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith("GATEWAY_") && e[1] !== undefined));
}

export async function startEmbedded(databaseUrl: string | undefined): Promise<Target> {
  const dataDir = await mkdtemp(join(tmpdir(), "parley-bench-"));
  const env = {
    ...BENCH_ENV,
    LOG_LEVEL: "info",
    PORT: "0",
    DATA_DIR: dataDir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...gatewaySettingsUnderTest(),
  };
  return restartable(
    (extra) => startProcess(built("standalone"), { ...env, ...extra }, "parley is running", 60_000, [...npmStartFlags(), ...extraNodeFlags()]),
    {
      name: "parley",
      onPostgres: databaseUrl !== undefined,
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    },
  );
}

/** Every service its own process over gRPC (service tokens, and TLS unless told otherwise, as in production), on the given Postgres database. */
export async function startDistributed(databaseUrl: string, options: { internalTls: boolean }): Promise<Target> {
  const dataDir = await mkdtemp(join(tmpdir(), "parley-bench-dist-"));
  const credentials = testCredentials({ tls: options.internalTls });
  const common = { ...BENCH_ENV, DATABASE_URL: databaseUrl, DATA_DIR: dataDir };
  const started: { name: string; proc: ServiceProcess }[] = [];
  // The image's Node flags (its NODE_OPTIONS, the same young-generation cap as npm start) on the command line.
  const nodeFlags = () => [...npmStartFlags(), ...extraNodeFlags()];
  const start = async (name: LauncherName, env: Record<string, string>, ready: string) => {
    const proc = await startProcess(built(name), { ...common, ...credentials.env(name), LOG_LEVEL: "info", ...env }, ready, 60_000, nodeFlags());
    started.push({ name, proc });
    return proc;
  };
  const account = await start("account", { ACCOUNT_PORT: "0", ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 9).toString("base64url") }, "account service listening");
  const idgen = await start("idgen", { IDGEN_PORT: "0", IDGEN_WORKER_ID: "1" }, "idgen listening");
  const presence = await start("presence", { PRESENCE_PORT: "0", ACCOUNT_ADDRESS: account.url }, "presence service listening");
  const notify = await start("notify", { NOTIFY_PORT: "0", ACCOUNT_ADDRESS: account.url, NOTIFY_RECORDING: "true" }, "notify service listening");
  const chat = await start(
    "chat",
    { CHAT_PORT: "0", ACCOUNT_ADDRESS: account.url, IDGEN_ADDRESS: idgen.url, PRESENCE_ADDRESS: presence.url, NOTIFY_ADDRESS: notify.url },
    "chat service listening",
  );
  const startGateway = (extra: Record<string, string>) =>
    startProcess(
      built("gateway"),
      {
        ...common,
        ...credentials.env("gateway"),
        LOG_LEVEL: "info",
        PORT: "0",
        GATEWAY_INTERNAL_PORT: "0",
        ACCOUNT_ADDRESS: account.url,
        CHAT_ADDRESS: chat.url,
        PRESENCE_ADDRESS: presence.url,
        ...gatewaySettingsUnderTest(),
        ...extra,
      },
      "gateway listening",
      60_000,
      nodeFlags(),
    );
  return restartable(startGateway, {
    name: "gateway",
    onPostgres: true,
    others: started,
    async cleanup() {
      for (const { name, proc } of [...started].reverse()) {
        await proc.stop("SIGTERM");
        await keepGcLog(name, proc);
      }
      await rm(dataDir, { recursive: true, force: true });
      credentials.close();
    },
  });
}

export function startRelay(): Promise<Target> {
  return restartable((extra) => startProcess("scripts/bench/relay-server.ts", extra, "relay listening"), { name: "relay", onPostgres: false });
}

/** Resident memory of a process, KiB (Linux). */
export async function rssKiB(pid: number): Promise<number> {
  return (await memoryKiB(pid)).rss;
}

/** Resident memory of a process now (VmRSS) and at its peak so far (VmHWM), KiB (Linux). */
export async function memoryKiB(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}
