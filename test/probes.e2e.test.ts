import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ServerReflection, ServerReflectionRequestSchema } from "@parley/contracts/grpc/reflection/v1/reflection";
import { createThrowawayDatabase, freePorts, startEtcd, testCredentials, type PrivateEtcd, type ThrowawayDatabase } from "@parley/testkit";
import pg from "pg";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { probe, readyzSays } from "./support/probes.js";
import { startProcess, type ServiceProcess } from "./support/process.js";

/** Checks every 100 ms, so a change shows within a fraction of a second. */
const FAST_READINESS = { READINESS_INTERVAL_MS: "100", READINESS_TIMEOUT_MS: "100" };

async function listServices(transport: Transport): Promise<string[]> {
  const client = createClient(ServerReflection, transport);
  const request = create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } });
  for await (const answer of client.serverReflectionInfo(
    (async function* () {
      yield request;
    })(),
  )) {
    if (answer.messageResponse.case === "listServicesResponse") return answer.messageResponse.value.service.map((s) => s.name);
  }
  throw new Error("no answer");
}

/**
 * A WebSocket that opens and then never reads again: it never answers the
 * gateway's close frame, so a graceful stop waits for it (up to
 * SOCKET_CLOSE_WAIT_MS) with the server still listening.
 */
async function deafSocket(url: string, token: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.write(
    [
      "GET /ws HTTP/1.1",
      `Host: ${hostname}:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
      "Sec-WebSocket-Version: 13",
      "Sec-WebSocket-Protocol: parley.v1.proto",
      `Authorization: Bearer ${token}`,
      "",
      "",
    ].join("\r\n"),
  );
  const head = await new Promise<string>((resolve, reject) => {
    socket.once("data", (chunk: Buffer) => resolve(chunk.toString()));
    socket.once("error", reject);
  });
  assert.match(head, /^HTTP\/1\.1 101/);
  socket.pause();
  return socket;
}

describe("probes and reflection in the embedded mode (npm start)", () => {
  let parley: EmbeddedParley;
  let internalUrl: string;
  let closed = false;

  before(async () => {
    const [port] = await freePorts(1);
    parley = await startParley({ INTERNAL_PORT: String(port), ...FAST_READINESS });
    internalUrl = parley.parley.internal!.url;
  });
  after(async () => {
    if (!closed) await parley?.close();
  });

  it("answers /livez 200, and /readyz 200 with the health service SERVING, on the public and the internal port", async () => {
    for (const url of [parley.url, internalUrl]) {
      assert.deepEqual(await probe(`${url}/livez`), { status: 200, text: "ok" });
      await readyzSays(url, 200, "ok");
    }
  });

  it("serves reflection on the internal port to an operator, with a token for any service there, and to nobody else", async () => {
    for (const audience of ["account", "notify"]) {
      const services = await listServices(parley.internalAs("operator:test", audience));
      for (const name of [
        "parley.account.v1.AccountService",
        "parley.chat.v1.ChatService",
        "parley.idgen.v1.IdGenService",
        "grpc.reflection.v1.ServerReflection",
      ]) {
        assert.ok(services.includes(name), `${name} in ${services.join(", ")}`);
      }
    }
    await assert.rejects(listServices(parley.internalAs("gateway", "account")), (err: unknown) => ConnectError.from(err).code === Code.PermissionDenied);
    await assert.rejects(listServices(createGrpcTransport({ baseUrl: internalUrl })), (err: unknown) => ConnectError.from(err).code === Code.Unauthenticated);
  });

  it("serves no reflection on the public port", async () => {
    await assert.rejects(listServices(createGrpcTransport({ baseUrl: parley.url })), (err: unknown) => ConnectError.from(err).code === Code.Unimplemented);
  });

  it("answers /readyz 503 draining, and NOT_SERVING, from the moment a graceful stop starts", async () => {
    const alice = await parley.user("probe_alice");
    const socket = await deafSocket(parley.wsUrl, alice.token);
    closed = true;
    const stopping = parley.close();
    try {
      // The gateway still listens while it waits for the deaf socket to close.
      await readyzSays(parley.url, 503, "not ready: draining");
      assert.equal((await probe(`${parley.url}/livez`)).status, 200, "draining is no reason to restart");
    } finally {
      socket.destroy();
      await stopping;
    }
  });
});

describe("probes of a service process (account) whose database goes away", () => {
  const credentials = testCredentials();
  let database: ThrowawayDatabase;
  let account: ServiceProcess;
  let admin: pg.Client;
  const name = () => new URL(database.url).pathname.slice(1);

  before(async () => {
    database = await createThrowawayDatabase("parley_probes");
    admin = new pg.Client({ connectionString: process.env.PARLEY_TEST_PG_URL });
    await admin.connect();
    account = await startProcess(
      "services/account/src/main.ts",
      {
        ...credentials.env("account"),
        ...FAST_READINESS,
        ACCOUNT_PORT: "0",
        DATABASE_URL: database.url,
        ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 7).toString("base64url"),
        ACCOUNT_SCRYPT_LOG_N: "10",
      },
      "account service listening",
    );
  });
  after(async () => {
    await account?.stop("SIGKILL");
    await admin?.query(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin?.end();
    await database?.drop();
    credentials.close();
  });

  it("is ready while Postgres answers", async () => {
    assert.deepEqual(await probe(`${account.url}/livez`), { status: 200, text: "ok" });
    await readyzSays(account.url, 200, "ok");
  });

  it("answers /readyz 503 naming the database, and NOT_SERVING, while no connection can be made, and ready again after", async () => {
    await admin.query(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS false`);
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [name()]);
    await readyzSays(account.url, 503, "not ready: database unreachable");
    assert.equal((await probe(`${account.url}/livez`)).status, 200, "a database outage is no reason to restart");
    await admin.query(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS true`);
    await readyzSays(account.url, 200, "ok");
  });

  it("serves reflection to an operator", async () => {
    const services = await listServices(credentials.plane("operator:test").transport(new URL(account.url).host, "account"));
    assert.ok(services.includes("parley.account.v1.AccountInternalService"), services.join(", "));
  });
});

describe("probes of a process using etcd (discovery) when etcd stops", () => {
  const credentials = testCredentials();
  let etcd: PrivateEtcd;
  let discovery: ServiceProcess;

  before(async () => {
    etcd = await startEtcd();
    discovery = await startProcess(
      "services/discovery/src/main.ts",
      { SERVICE_TRUST_FILE: credentials.keys.trustFile, DISCOVERY_PORT: "0", ETCD_ENDPOINTS: etcd.url, ...FAST_READINESS },
      "discovery listening",
    );
  });
  after(async () => {
    await discovery?.stop("SIGKILL");
    await etcd?.close();
    credentials.close();
  });

  it("answers /readyz 503 naming etcd while it is down, and ready again once it is back", async () => {
    await readyzSays(discovery.url, 200, "ok");
    await etcd.stop();
    await readyzSays(discovery.url, 503, "not ready: etcd unreachable");
    assert.equal((await probe(`${discovery.url}/livez`)).status, 200);
    await etcd.start();
    await readyzSays(discovery.url, 200, "ok");
  });
});
