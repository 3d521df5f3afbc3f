import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { callApi } from "./support/http-api.js";
import { type CollectedSpan, OtlpCollector } from "./support/otlp-collector.js";
import { startProcess, type ServiceProcess } from "./support/process.js";
import { connectDevice } from "./support/sdk.js";
import { createThrowawayDatabase, type ThrowawayDatabase } from "@parley/testkit";
import pg from "pg";
import { TlsMesh } from "./support/tls-mesh.js";

/** Spans exported a tenth of a second after they end, so the tests wait little. */
const tracingEnv = (collector: OtlpCollector) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: "100" });

async function logIn(gatewayUrl: string, username: string) {
  await callApi(gatewayUrl, "SignUp", { username, password: "correct horse battery" });
  const res = await callApi(gatewayUrl, "LogIn", { username, password: "correct horse battery", deviceName: "phone" });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { token: res.body.session.accessToken as string, userId: BigInt(res.body.profile.userId) };
}

/** A sends B one message through `gatewayUrl`; resolves once B has it. */
async function sendOne(gatewayUrl: string, prefix: string): Promise<void> {
  const a = await logIn(gatewayUrl, `${prefix}_a`);
  const b = await logIn(gatewayUrl, `${prefix}_b`);
  const sender = await connectDevice(gatewayUrl, a.token);
  const receiver = await connectDevice(gatewayUrl, b.token);
  try {
    const conversation = await sender.client.openDirect(b.userId);
    await sender.client.send(conversation.conversationId, "traced");
    await receiver.received(1);
  } finally {
    sender.client.close();
    receiver.client.close();
  }
}

/**
 * The send's trace: the gateway's span for the request, chat's for the
 * command under it, the store's and the delivery's under chat's, and the
 * recipient's gateway writing the frame under the delivery.
 */
function sendTrace(spans: CollectedSpan[]): Map<string, CollectedSpan> | undefined {
  for (const root of spans.filter((s) => s.name === "gateway send" && s.parentSpanId === "")) {
    const inTrace = spans.filter((s) => s.traceId === root.traceId);
    const child = (parent: CollectedSpan | undefined, name: string) => inTrace.find((s) => s.name === name && s.parentSpanId === parent?.spanId);
    const chat = child(root, "chat send");
    const store = child(chat, "store append");
    const deliver = child(chat, "chat deliver");
    const write = child(deliver, "gateway deliver");
    if (chat && store && deliver && write) {
      return new Map([
        ["gateway send", root],
        ["chat send", chat],
        ["store append", store],
        ["chat deliver", deliver],
        ["gateway deliver", write],
      ]);
    }
  }
  return undefined;
}

describe("traces and request ids", () => {
  let collector: OtlpCollector;
  before(async () => {
    collector = await OtlpCollector.start();
  });
  after(() => collector?.close());

  describe("embedded (npm start)", () => {
    let dataDir: string;
    let parley: ServiceProcess | undefined;
    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), "parley-tracing-"));
      parley = await startProcess(
        "apps/standalone/src/main.ts",
        { DATA_DIR: dataDir, PORT: "0", ACCOUNT_SCRYPT_LOG_N: "10", LOG_LEVEL: "info", ...tracingEnv(collector) },
        "parley is running",
      );
    });
    after(async () => {
      await parley?.stop("SIGKILL");
      await rm(dataDir, { recursive: true, force: true });
    });

    it("makes a send one trace: gateway, chat, store, bus and delivery", async () => {
      await sendOne(parley!.url, "tr_emb");
      const trace = await collector.until(sendTrace);
      assert.equal(new Set([...trace.values()].map((s) => s.traceId)).size, 1);
    });

    it("gives every HTTP API request a request id, echoed, in the access log, and a trace", async () => {
      const mine = await callApi(parley!.url, "SignUp", { username: "tr_rid", password: "correct horse battery" }, undefined, { "x-request-id": "req-tr-1" });
      assert.equal(mine.headers.get("x-request-id"), "req-tr-1", "a well-formed caller's id is kept");
      const made = await callApi(parley!.url, "SignUp", { username: "tr_rid2", password: "correct horse battery" }, undefined, { "x-request-id": "not ok" });
      const madeId = made.headers.get("x-request-id") ?? "";
      assert.match(madeId, /^[0-9a-f-]{36}$/, "a malformed one is replaced");
      const line = parley!
        .output()
        .split("\n")
        .find((l) => l.includes('"msg":"http request"') && l.includes('"request_id":"req-tr-1"'));
      assert.ok(line, "an access-log line for the request");
      const record = JSON.parse(line) as Record<string, unknown>;
      assert.equal(record.method, "POST");
      assert.equal(record.path, "/parley.account.v1.AccountService/SignUp");
      assert.equal(record.status, 200);
      assert.equal(typeof record.duration_ms, "number");
      await collector.until((spans) => spans.find((s) => s.name === "parley.account.v1.AccountService/SignUp" && s.parentSpanId === ""));
    });
  });

  describe("distributed (every service its own process, gRPC with TLS)", () => {
    let mesh: TlsMesh;
    before(async () => {
      mesh = await TlsMesh.start(tracingEnv(collector));
    });
    after(() => mesh?.close());

    it("carries a send's trace across the processes: the gateway's, chat's and the gateway's deliver spans in one trace", async () => {
      await sendOne(mesh.gateway.url, "tr_dist");
      const trace = await collector.until((spans) => sendTrace(spans.filter((s) => s.service !== "parley")));
      assert.equal(trace.get("gateway send")!.service, "gateway");
      assert.equal(trace.get("chat send")!.service, "chat");
      assert.equal(trace.get("store append")!.service, "chat");
      assert.equal(trace.get("gateway deliver")!.service, "gateway");
    });

    it("continues an HTTP API request's trace in the service it is forwarded to", async () => {
      await callApi(mesh.gateway.url, "SignUp", { username: "tr_fwd", password: "correct horse battery" });
      await collector.until((spans) => {
        const edge = spans.find((s) => s.service === "gateway" && s.name === "parley.account.v1.AccountService/SignUp");
        return edge && spans.find((s) => s.service === "account" && s.traceId === edge.traceId && s.parentSpanId !== "");
      });
    });
  });

  describe("WebSocket requests (npm start on Postgres)", () => {
    let database: ThrowawayDatabase;
    let parley: ServiceProcess | undefined;
    let dataDir: string;
    before(async () => {
      database = await createThrowawayDatabase("parley_rid");
      dataDir = await mkdtemp(join(tmpdir(), "parley-rid-"));
      parley = await startProcess(
        "apps/standalone/src/main.ts",
        { DATA_DIR: dataDir, PORT: "0", ACCOUNT_SCRYPT_LOG_N: "10", LOG_LEVEL: "info", DATABASE_URL: database.url },
        "parley is running",
      );
    });
    after(async () => {
      await parley?.stop("SIGKILL");
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it("logs a WebSocket request that fails inside chat under the request's id (session and frame)", async () => {
      const a = await logIn(parley!.url, "rid_a");
      const b = await logIn(parley!.url, "rid_b");
      const sender = await connectDevice(parley!.url, a.token);
      try {
        const conversation = await sender.client.openDirect(b.userId);
        await sender.client.send(conversation.conversationId, "before");
        // A real failure inside chat: the store's table is gone (an operator's mistake), so the next send fails unexpectedly.
        const admin = new pg.Client({ connectionString: database.url });
        await admin.connect();
        await admin.query("ALTER TABLE sent_messages RENAME TO sent_messages_moved");
        await admin.end();
        await assert.rejects(sender.client.send(conversation.conversationId, "after", { timeoutMs: 10_000 }));
      } finally {
        sender.client.close();
      }
      const lines = parley!
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      // Chat answers "internal error" and logs why, under the request's id: "<session id>/<frame id>",
      // the id the gateway would log the same request under.
      const chat = lines.find((l) => l.msg === "unexpected error");
      assert.ok(chat, `chat logs the failure; logged: ${lines.map((l) => l.msg).join(" | ")}`);
      assert.match(String(chat.request_id), /^[1-9]\d*\/[1-9]\d*$/, "the device's session and the frame's id");
    });
  });
});
