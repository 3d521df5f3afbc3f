import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import https from "node:https";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { freePorts, testCredentials, type TestCredentials } from "@parley/testkit";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { grpcJsClient, unary } from "./support/grpcjs.js";
import type { ApiResult } from "./support/http-api.js";
import { RawSocket } from "./support/raw-socket.js";

/** POSTs JSON over HTTPS, verifying the server against `ca` (fetch cannot take a private CA). */
function post(url: string, body: unknown, ca: Buffer, token?: string): Promise<Pick<ApiResult, "status" | "body">> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const req = https.request(url, { method: "POST", ca, headers }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text === "" ? {} : JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe("TLS: HTTPS and WSS at the gateway, and TLS with service tokens on npm start's internal port", () => {
  let credentials: TestCredentials;
  let p: EmbeddedParley;
  let ca: Buffer;
  const api = (method: string) => `${p.url}/parley.account.v1.AccountService/${method}`;

  before(async () => {
    credentials = testCredentials({ tls: true });
    const certs = credentials.certs!;
    ca = readFileSync(certs.caFile);
    const [internalPort] = await freePorts(1);
    p = await startParley(
      {
        PUBLIC_TLS_CERT_FILE: certs.certFile,
        PUBLIC_TLS_KEY_FILE: certs.keyFile,
        INTERNAL_PORT: String(internalPort),
        SERVICE_TRUST_FILE: credentials.keys.trustFile,
        TLS_CERT_FILE: certs.certFile,
        TLS_KEY_FILE: certs.keyFile,
      },
      { credentials },
    );
  });
  after(async () => {
    await p?.close();
    credentials?.close();
  });

  it("serves the public HTTP API over HTTPS, and PickGateway names a wss:// URL", async () => {
    assert.match(p.url, /^https:\/\//);
    assert.equal((await post(api("SignUp"), { username: "tls_alice", password: "correct horse battery" }, ca)).status, 200);
    const picked = await post(`${p.url}/parley.discovery.v1.DiscoveryService/PickGateway`, {}, ca);
    assert.match(picked.body.url, /^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
  });

  it("serves the WebSocket as WSS: a device logs in over HTTPS and is welcomed over TLS", async () => {
    await post(api("SignUp"), { username: "tls_bob", password: "correct horse battery" }, ca);
    const login = await post(api("LogIn"), { username: "tls_bob", password: "correct horse battery", deviceName: "phone" }, ca);
    const socket = await RawSocket.open(p.wsUrl, login.body.session.accessToken, { ca });
    try {
      assert.match(p.wsUrl, /^wss:\/\//);
      const welcome = await socket.next((f) => f.body.case === "welcome");
      assert.equal(welcome.body.case === "welcome" && welcome.body.value.userId, BigInt(login.body.profile.userId));
    } finally {
      socket.ws.close();
    }
  });

  it("refuses cleartext HTTP on the TLS port", async () => {
    await assert.rejects(fetch(`${p.url.replace("https:", "http:")}/healthz`));
  });

  it("takes only service tokens over TLS on the internal port, from Connect and from plain grpc-js", async () => {
    assert.match(p.parley.internal!.url, /^https:\/\//);
    const asChat = createClient(IdGenService, p.internalAs("chat", "idgen"));
    assert.equal((await asChat.nextIds({ count: 2 })).ids.length, 2);
    const grpcJs = grpcJsClient("idgen", p.parley.internal!.url, { ca, token: () => credentials.plane("chat").token("idgen") });
    try {
      assert.equal((await unary(grpcJs, "NextIds", { count: 3 })).ids.length, 3);
    } finally {
      grpcJs.close();
    }
    const anonymous = createClient(IdGenService, createGrpcTransport({ baseUrl: p.parley.internal!.url, nodeOptions: { ca } }));
    await assert.rejects(anonymous.nextIds({ count: 1 }), (err) => ConnectError.from(err).code === Code.Unauthenticated);
    const cleartext = createClient(IdGenService, createGrpcTransport({ baseUrl: p.parley.internal!.url.replace("https:", "http:") }));
    await assert.rejects(cleartext.nextIds({ count: 1 }));
  });
});
