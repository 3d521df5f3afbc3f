import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { Certificates } from "./credentials.js";
import { freePorts } from "./ports.js";

/**
 * A throwaway Postgres cluster of its own, for tests of how Parley connects
 * (TLS, passwords) rather than of what it stores: the shared test server
 * (PARLEY_TEST_PG_URL) keeps its own settings. It serves TLS only, with a
 * certificate from the test CA; pg_hba.conf accepts `hostssl` with
 * scram-sha-256 from 127.0.0.1 and 127.0.0.2 (two names, one of them not in
 * the certificate) and rejects every connection without TLS.
 */
export interface PrivatePostgres {
  readonly port: number;
  /** Superuser access to `database` (default postgres) for set-up, over a Unix socket in the cluster's folder (trusted, never TLS). */
  admin<T>(run: (client: pg.Client) => Promise<T>, database?: string): Promise<T>;
  /** Creates a login role with a SCRAM password and a database it owns, both named `name`. */
  addUser(name: string, password: string): Promise<void>;
  /** Stops the cluster (immediately) and deletes its folder. Safe to call twice. */
  close(): Promise<void>;
}

export interface PrivatePostgresOptions {
  /** The server certificate and key (from writeCertificates), naming 127.0.0.1 and localhost. */
  readonly certs: Certificates;
}

/** Bounds: initdb and a first start take a few seconds on a loaded machine. */
const START_TIMEOUT_S = 60;

const clusters = new Set<{ stop(): void }>();
// A test run that dies (or forgets close()) must not leave a postmaster or its folder behind.
process.on("exit", () => {
  for (const cluster of clusters) cluster.stop();
});

/**
 * Starts the cluster with initdb and pg_ctl (from `pg_config --bindir`, as
 * scripts/ensure-postgres.sh does), as the `postgres` user when running as
 * root, since postgres refuses to run as root. Listens on a free port below
 * 32768 (see STACK-NOTES).
 */
export async function startPostgres(options: PrivatePostgresOptions): Promise<PrivatePostgres> {
  const bin = postgresBinaries();
  const folder = mkdtempSync(join(tmpdir(), "parley-pg-tls-"));
  const data = join(folder, "data");
  const [port] = (await freePorts(1)) as [number];
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clusters.delete(cluster);
    // -m immediate: the data is thrown away, so nothing needs a clean shutdown.
    spawnSync(...asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]), { stdio: "ignore" });
    rmSync(folder, { recursive: true, force: true });
  };
  const cluster = { stop };
  clusters.add(cluster);
  try {
    if (isRoot()) chownSync(folder, postgresUid(), postgresGid());
    run(bin, "initdb", [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth-local=trust",
      "--auth-host=reject",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
      "--no-sync",
      "--no-instructions",
    ]);
    installServerCertificate(data, options.certs);
    writeFileSync(
      join(data, "pg_hba.conf"),
      [
        "# Written by the Parley testkit: TLS and SCRAM passwords only.",
        "local     all all                trust",
        "hostssl   all all 127.0.0.1/32   scram-sha-256",
        "hostssl   all all 127.0.0.2/32   scram-sha-256",
        "hostnossl all all 0.0.0.0/0      reject",
        "hostnossl all all ::/0           reject",
        "",
      ].join("\n"),
    );
    const settings = [
      `-p ${port}`,
      "-c listen_addresses='127.0.0.1,127.0.0.2'",
      `-k ${folder}`,
      "-c ssl=on",
      "-c password_encryption=scram-sha-256",
      // A throwaway cluster: durability buys nothing here.
      "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
    ].join(" ");
    run(bin, "pg_ctl", ["-D", data, "-l", join(folder, "log"), "-w", "-t", String(START_TIMEOUT_S), "-o", settings, "start"]);
  } catch (err) {
    stop();
    throw err;
  }

  const admin = async <T>(work: (client: pg.Client) => Promise<T>, database = "postgres"): Promise<T> => {
    const client = new pg.Client({ host: folder, port, user: "postgres", database });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  return {
    port,
    admin,
    async addUser(name, password) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain SQL name: ${name}`);
      await admin(async (client) => {
        await client.query(`CREATE ROLE ${name} LOGIN PASSWORD ${client.escapeLiteral(password)}`);
        await client.query(`CREATE DATABASE ${name} OWNER ${name} TEMPLATE template0`);
      });
    },
    async close() {
      stop();
    },
  };
}

/** server.crt and server.key in the data folder, owned by the server's user with mode 0600 (postgres refuses a key others can read). */
function installServerCertificate(data: string, certs: Certificates): void {
  const cert = join(data, "server.crt");
  const key = join(data, "server.key");
  copyFileSync(certs.certFile, cert);
  copyFileSync(certs.keyFile, key);
  chmodSync(key, 0o600);
  if (isRoot()) {
    for (const file of [cert, key]) chownSync(file, postgresUid(), postgresGid());
  }
}

function postgresBinaries(): string {
  try {
    return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("PostgreSQL's server binaries are not installed (pg_config not found): run `bash scripts/ensure-postgres.sh` (npm test does)");
  }
}

function run(bin: string, tool: string, args: string[]): void {
  const [command, fullArgs] = asPostgres(join(bin, tool), args);
  const result = spawnSync(command, fullArgs, { encoding: "utf8" });
  if (result.status !== 0)
    throw new Error(`${tool} failed (${result.status ?? result.signal}): ${(result.stderr || result.stdout || String(result.error)).trim().slice(-2000)}`);
}

/** postgres refuses to run as root: run it as the postgres user then, as scripts/ensure-postgres.sh does. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return isRoot() ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function postgresUid(): number {
  return Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
}

function postgresGid(): number {
  return Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
}
