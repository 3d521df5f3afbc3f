import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Etcd3, Range } from "etcd3";
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

/**
 * How a private etcd is secured. `tls` serves the client port over TLS
 * (https://) and, with `clientCertAuth`, refuses clients without a
 * certificate from `caFile` (etcd's --client-cert-auth). `rootPassword`
 * turns on etcd's authentication (a root user with the root role, as
 * `etcdctl auth enable` sets it up) once it has started. `jwtTokens` makes
 * it hand out JWT auth tokens (as production etcds often do) instead of its
 * default simple tokens.
 */
export interface EtcdSecurity {
  readonly tls?: {
    readonly caFile: string;
    readonly certFile: string;
    readonly keyFile: string;
    readonly clientCertAuth: boolean;
    /** The certificate the launcher itself presents (health checks, user set-up). */
    readonly adminCertFile: string;
    readonly adminKeyFile: string;
  };
  readonly rootPassword?: string;
  readonly jwtTokens?: boolean;
}

/** A private etcd process, for tests that stop or restart etcd. */
export interface PrivateEtcd {
  /** Client URL, the same across restarts (https:// when started with tls). */
  readonly url: string;
  readonly running: boolean;
  /** Starts it again on the same ports and data (after stop()). */
  start(): Promise<void>;
  /** Stops it: SIGTERM by default; SIGKILL for a crash. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  restart(): Promise<void>;
  /** Deletes its data while it is stopped, so the next start() is an etcd that lost everything. */
  wipe(): Promise<void>;
  /**
   * Adds user `name` with `password` and a role of the same name that may
   * read and write only the keys under `prefix` (what docs/security.md
   * recommends for each deployment). Needs a start with rootPassword.
   */
  addUser(name: string, password: string, prefix: string): Promise<void>;
  /** Changes a user's password (etcd then ends that user's sessions). Needs a start with rootPassword. */
  setPassword(name: string, password: string): Promise<void>;
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
export async function startEtcd(security: EtcdSecurity = {}): Promise<PrivateEtcd> {
  if (spawnSync("etcd", ["--version"], { stdio: "ignore" }).status !== 0) {
    throw new Error("the etcd binary is not installed: run `bash scripts/ensure-etcd.sh` (npm test does)");
  }
  const folder = await mkdtemp(join(tmpdir(), "parley-etcd-"));
  const dataDir = join(folder, "data");
  const [clientPort, peerPort] = await freePorts(2);
  const tls = security.tls;
  const url = `${tls ? "https" : "http"}://127.0.0.1:${clientPort}`;
  // Peers talk over loopback in cleartext: a one-member cluster has no peer traffic worth securing.
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const args = [
    "--name",
    "private",
    "--data-dir",
    dataDir,
    "--logger=zap",
    "--log-level=error",
    "--listen-client-urls",
    url,
    "--advertise-client-urls",
    url,
    "--listen-peer-urls",
    peerUrl,
    "--initial-advertise-peer-urls",
    peerUrl,
    "--initial-cluster",
    `private=${peerUrl}`,
    ...(tls ? ["--cert-file", tls.certFile, "--key-file", tls.keyFile, "--trusted-ca-file", tls.caFile] : []),
    ...(tls?.clientCertAuth ? ["--client-cert-auth"] : []),
    ...(security.jwtTokens ? ["--auth-token", jwtSigningKeys(folder)] : []),
  ];
  const adminTls = tls && {
    ca: readFileSync(tls.caFile),
    cert: readFileSync(tls.adminCertFile),
    key: readFileSync(tls.adminKeyFile),
  };
  /** A client of the launcher's own, as root once authentication is on. */
  const admin = (asRoot: boolean) =>
    new Etcd3({
      hosts: url,
      ...(adminTls ? { credentials: { rootCertificate: adminTls.ca, certChain: adminTls.cert, privateKey: adminTls.key } } : {}),
      ...(asRoot && security.rootPassword !== undefined ? { auth: { username: "root", password: security.rootPassword } } : {}),
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + 10_000 }),
    });
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
      while (!(await healthy(url, adminTls))) {
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
    async addUser(name, password, prefix) {
      if (security.rootPassword === undefined) throw new Error("addUser() needs an etcd started with rootPassword");
      const client = admin(true);
      try {
        const role = await client.role(name).create();
        await role.grant({ permission: "Readwrite", range: Range.prefix(prefix) });
        await client.user(name).create(password);
        await client.user(name).addRole(name);
      } finally {
        client.close();
      }
    },
    async setPassword(name, password) {
      if (security.rootPassword === undefined) throw new Error("setPassword() needs an etcd started with rootPassword");
      const client = admin(true);
      try {
        await client.user(name).setPassword(password);
      } finally {
        client.close();
      }
    },
    async close() {
      await etcd.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
  try {
    await etcd.start();
    if (security.rootPassword !== undefined) await enableAuth(admin(false), security.rootPassword);
  } catch (err) {
    await etcd.close();
    throw err;
  }
  return etcd;
}

/** An ES256 key pair for etcd's JWT tokens, written into `folder`; returns the --auth-token value. */
function jwtSigningKeys(folder: string): string {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const priv = join(folder, "jwt.key");
  const pub = join(folder, "jwt.pub");
  writeFileSync(priv, privateKey.export({ type: "sec1", format: "pem" }), { mode: 0o600 });
  writeFileSync(pub, publicKey.export({ type: "spki", format: "pem" }));
  return `jwt,pub-key=${pub},priv-key=${priv},sign-method=ES256`;
}

/** What `etcdctl auth enable` does: a root user holding the root role, then authentication on. */
async function enableAuth(client: Etcd3, rootPassword: string): Promise<void> {
  try {
    await client.role("root").create();
    await client.user("root").create(rootPassword);
    await client.user("root").addRole("root");
    await client.auth.authEnable();
  } finally {
    client.close();
  }
}

async function healthy(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer } | undefined): Promise<boolean> {
  if (tls === undefined) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok && ((await res.json()) as { health?: string }).health === "true";
    } catch {
      return false;
    }
  }
  // fetch cannot take a private CA or a client certificate; https.get can.
  return new Promise((resolve) => {
    const req = httpsGet(`${url}/health`, { ...tls, timeout: 1000 }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => {
        try {
          resolve(res.statusCode === 200 && (JSON.parse(body) as { health?: string }).health === "true");
        } catch {
          resolve(false);
        }
      });
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}
