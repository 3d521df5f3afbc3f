import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createThrowawayDatabase, testCredentials, testEtcdUrl, uniqueEtcdPrefix, type TestCredentials, type ThrowawayDatabase } from "@parley/testkit";
import { built, startProcess, type ServiceProcess } from "./process.js";

/** The processes a mesh can run: each one's entry, ready line and port variable. */
const SERVICES = {
  account: { entry: "services/account/src/main.ts", ready: "account service listening", port: "ACCOUNT_PORT" },
  idgen: { entry: "services/idgen/src/main.ts", ready: "idgen listening", port: "IDGEN_PORT" },
  presence: { entry: "services/presence/src/main.ts", ready: "presence service listening", port: "PRESENCE_PORT" },
  notify: { entry: "services/notify/src/main.ts", ready: "notify service listening", port: "NOTIFY_PORT" },
  chat: { entry: "services/chat/src/main.ts", ready: "chat service listening", port: "CHAT_PORT" },
  gateway: { entry: "gateway/src/main.ts", ready: "gateway listening", port: "PORT" },
  discovery: { entry: "services/discovery/src/main.ts", ready: "discovery listening", port: "DISCOVERY_PORT" },
} as const;
export type MeshService = keyof typeof SERVICES;

/** What each service gets beyond the common settings (the tests' usual choices). */
const DEFAULTS: Record<MeshService, Record<string, string>> = {
  // Sign-ups per address lifted: every user signs up from 127.0.0.1. Cheap password hashing.
  account: { ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 6).toString("base64url"), ACCOUNT_SCRYPT_LOG_N: "10", ACCOUNT_SIGNUPS_PER_ADDRESS: "0" },
  idgen: {},
  presence: {},
  notify: { NOTIFY_RECORDING: "true" },
  chat: {},
  gateway: { GATEWAY_INTERNAL_PORT: "0" },
  discovery: {},
};

/**
 * Parley as separate processes that find one another only through a real
 * etcd (a prefix of their own), on a throwaway Postgres database, each with
 * its own service key: the distributed mode as `npm run mesh` runs it. The
 * processes are kept by name so tests can kill and restart them.
 */
export class EtcdMesh {
  readonly procs: Record<string, ServiceProcess> = {};
  readonly credentials: TestCredentials = testCredentials();
  private constructor(
    readonly database: ThrowawayDatabase,
    private readonly dataDir: string,
    /** ETCD_* and DISCOVERY_* settings every process gets. */
    readonly etcd: Record<string, string>,
    /** Whether the processes run the built output (`node bin/parley.mjs <service>`) rather than the sources. */
    private readonly fromBuild: boolean,
  ) {}

  /**
   * `leaseTtlSeconds`: short leases let a killed process leave the registry sooner (production: 10 s, the default when absent).
   * `built`: every process runs the built output through the launcher, as the image does (`npm run build` first).
   */
  static async open(name: string, options: { leaseTtlSeconds?: number; built?: boolean } = {}): Promise<EtcdMesh> {
    const database = await createThrowawayDatabase(`parley_${name}`);
    const dataDir = await mkdtemp(join(tmpdir(), `parley-${name}-`));
    const etcd = {
      ETCD_ENDPOINTS: testEtcdUrl(),
      ETCD_PREFIX: uniqueEtcdPrefix(name),
      ...(options.leaseTtlSeconds === undefined ? {} : { DISCOVERY_LEASE_TTL_SECONDS: String(options.leaseTtlSeconds) }),
    };
    return new EtcdMesh(database, dataDir, etcd, options.built ?? false);
  }

  /** Starts `service` as `name` (its key in `procs`), with `env` over the defaults. */
  async start(service: MeshService, name: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const { entry, ready, port } = SERVICES[service];
    const proc = await startProcess(
      this.fromBuild ? built(service) : entry,
      {
        ...this.credentials.env(service),
        DATABASE_URL: this.database.url,
        DATA_DIR: this.dataDir,
        ...this.etcd,
        [port]: "0",
        ...DEFAULTS[service],
        ...env,
      },
      ready,
    );
    this.procs[name] = proc;
    return proc;
  }

  /** True while the process named `name` runs. */
  alive(name: string): boolean {
    const proc = this.procs[name];
    return proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.procs).map((p) => p.stop("SIGKILL")));
    await this.database.drop();
    await rm(this.dataDir, { recursive: true, force: true });
    this.credentials.close();
  }
}
