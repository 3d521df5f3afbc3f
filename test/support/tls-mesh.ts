import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createThrowawayDatabase, testCredentials, type TestCredentials, type ThrowawayDatabase } from "@parley/testkit";
import { startProcess, type ServiceProcess } from "./process.js";
import { readyzSays } from "./probes.js";

const SECRET = Buffer.alloc(32, 7).toString("base64url");

/**
 * Every service its own process over real gRPC, each given the others'
 * addresses (no registry), with its own key, the shared trust file and a
 * certificate from a private CA: the distributed mode's internal plane as
 * in production, accounts in a throwaway Postgres database. The processes
 * are fields so tests can kill one and start it again on its port.
 */
export class TlsMesh {
  readonly credentials: TestCredentials = testCredentials({ tls: true });
  account!: ServiceProcess;
  idgen!: ServiceProcess;
  presence!: ServiceProcess;
  notify!: ServiceProcess;
  chat!: ServiceProcess;
  gateway!: ServiceProcess;

  private constructor(
    readonly database: ThrowawayDatabase,
    private readonly dataDir: string,
    /** Laid over every process's environment (tracing, say). */
    private readonly extraEnv: Record<string, string>,
  ) {}

  static async start(extraEnv: Record<string, string> = {}): Promise<TlsMesh> {
    const mesh = new TlsMesh(await createThrowawayDatabase("parley_e2e"), await mkdtemp(join(tmpdir(), "parley-distributed-")), extraEnv);
    // A process that does not come up fails the start, and those already up are stopped: left running,
    // they would keep the test file's process alive (a hang, not a failure).
    const started: ServiceProcess[] = [];
    const start = async (...args: Parameters<typeof startProcess>) => {
      const proc = await startProcess(...args);
      started.push(proc);
      return proc;
    };
    try {
      const [account, idgen] = await Promise.allSettled([
        start("services/account/src/main.ts", mesh.accountEnv("0"), "account service listening"),
        start("services/idgen/src/main.ts", { ...mesh.as("idgen"), IDGEN_PORT: "0", IDGEN_WORKER_ID: "7" }, "idgen listening"),
      ]);
      if (account.status === "rejected") throw account.reason;
      if (idgen.status === "rejected") throw idgen.reason;
      [mesh.account, mesh.idgen] = [account.value, idgen.value];
      mesh.presence = await start("services/presence/src/main.ts", mesh.presenceEnv("0"), "presence service listening");
      mesh.notify = await start(
        "services/notify/src/main.ts",
        { ...mesh.as("notify"), NOTIFY_PORT: "0", DATABASE_URL: mesh.database.url, ACCOUNT_ADDRESS: mesh.account.url, NOTIFY_RECORDING: "true" },
        "notify service listening",
      );
      mesh.chat = await start("services/chat/src/main.ts", mesh.chatEnv("0"), "chat service listening");
      mesh.gateway = await start("gateway/src/main.ts", mesh.gatewayEnv("0"), "gateway listening");
      // Listening is not ready: the gateway serves once chat has answered its stream's hello. An
      // orchestrator sends no traffic before /readyz says so, and neither do the tests.
      await readyzSays(mesh.gateway.url, 200, "ok");
      return mesh;
    } catch (err) {
      await Promise.all(started.map((p) => p.stop("SIGKILL")));
      await mesh.close();
      throw err;
    }
  }

  /** A process's key, trust file and certificate. */
  as(principal: string): Record<string, string> {
    return { ...this.credentials.env(principal), ...this.extraEnv };
  }

  // Sign-ups per address lifted: every user here signs up from 127.0.0.1 (test/brute-force.e2e.test.ts tests the limit).
  accountEnv(port: string): Record<string, string> {
    return {
      ...this.as("account"),
      ACCOUNT_PORT: port,
      DATABASE_URL: this.database.url,
      DATA_DIR: this.dataDir,
      ACCOUNT_TOKEN_SECRET: SECRET,
      ACCOUNT_SCRYPT_LOG_N: "10",
      ACCOUNT_SIGNUPS_PER_ADDRESS: "0",
    };
  }

  presenceEnv(port: string): Record<string, string> {
    return { ...this.as("presence"), PRESENCE_PORT: port, DATABASE_URL: this.database.url, ACCOUNT_ADDRESS: this.account.url, PRESENCE_GRACE_MS: "1500" };
  }

  chatEnv(port: string): Record<string, string> {
    return {
      ...this.as("chat"),
      CHAT_PORT: port,
      DATABASE_URL: this.database.url,
      ACCOUNT_ADDRESS: this.account.url,
      IDGEN_ADDRESS: this.idgen.url,
      PRESENCE_ADDRESS: this.presence.url,
      NOTIFY_ADDRESS: this.notify.url,
    };
  }

  gatewayEnv(port: string): Record<string, string> {
    return {
      ...this.as("gateway"),
      PORT: port,
      // Readiness rounds every 200 ms, so a test sees an upstream's outage at once.
      READINESS_INTERVAL_MS: "200",
      READINESS_TIMEOUT_MS: "200",
      GATEWAY_INTERNAL_PORT: "0",
      ACCOUNT_ADDRESS: this.account.url,
      CHAT_ADDRESS: this.chat.url,
      PRESENCE_ADDRESS: this.presence.url,
    };
  }

  /** A Connect client of `service` at `proc`, as `principal` (over TLS, with its service token). */
  clientAs<S extends Parameters<typeof createClient>[0]>(service: S, principal: string, proc: ServiceProcess, audience: string) {
    return createClient(service, this.credentials.plane(principal).transport(new URL(proc.url).host, audience));
  }

  async close(): Promise<void> {
    await Promise.all([this.gateway, this.chat, this.presence, this.notify, this.account, this.idgen].map((p) => p?.stop("SIGKILL")));
    await this.database?.drop();
    await rm(this.dataDir, { recursive: true, force: true });
    this.credentials.close();
  }
}
