import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { issueCertificate, until, writeCertificates, type Certificates } from "@parley/testkit";
import { accessPolicy } from "../src/auth/access-policy.js";
import { openInternalPlane, type InternalPlane } from "../src/auth/internal-plane.js";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { startServer, type RunningServer } from "../src/server.js";
import { credentialsDir, join, keysFor, planeSettings, replaceFile } from "./plane-fixtures.js";

const logger = createLogger("test", "silent");
const policy = accessPolicy([IdGenService.typeName, { audience: "idgen", methods: { NextIds: { roles: ["chat"] } } }]);

/** The serial number of the certificate a new TLS connection to `port` is shown. */
function servedSerial(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, ALPNProtocols: ["h2"] }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on("error", reject);
  });
}

/** An idgen server behind `plane`'s guard, serving TLS with its certificate: NextIds answers [count]. */
function startIdgenOverTls(plane: InternalPlane): Promise<RunningServer> {
  return startServer({
    host: "127.0.0.1",
    port: 0,
    serviceNames: [IdGenService.typeName],
    logger,
    metrics: new Metrics(),
    interceptors: [plane.guard(policy)],
    tls: plane.serverTls!,
    routes: (router) => router.service(IdGenService, { nextIds: (req) => ({ ids: [BigInt(req.count)] }) }),
  });
}

describe("internal plane > TLS", () => {
  const folder = credentialsDir("tls");
  const keys = keysFor(folder.dir, ["idgen", "chat"]);
  let certs: Certificates;
  let server: RunningServer;
  let idgen: InternalPlane;
  let chat: InternalPlane;

  before(async () => {
    certs = writeCertificates(join(folder.dir, "pki"));
    idgen = openInternalPlane(planeSettings(keys, "idgen", { tls: { certFile: certs.certFile, keyFile: certs.keyFile } }), "idgen", logger, {
      listenHosts: ["127.0.0.1"],
    });
    chat = openInternalPlane(planeSettings(keys, "chat", { caFile: certs.caFile }), "chat", logger, { listenHosts: ["127.0.0.1"] });
    server = await startIdgenOverTls(idgen);
  });
  after(async () => {
    await server.close(100);
    idgen.close();
    chat.close();
    folder.cleanup();
  });

  it("serves gRPC over HTTP/2 with TLS to a client that verifies it against the private CA", async () => {
    assert.match(server.url, /^https:\/\//);
    const client = createClient(IdGenService, chat.transport(new URL(server.url).host, "idgen"));
    assert.deepEqual((await client.nextIds({ count: 4 })).ids, [4n]);
  });

  it("serves HTTPS (HTTP/1.1 by ALPN) on the same port", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: "127.0.0.1", port: server.port, path: "/healthz", ca: readFileSync(certs.caFile) }, (res) => {
          let text = "";
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () => resolve(text));
        })
        .on("error", reject);
    });
    assert.equal(body, "ok\n");
  });

  it("is refused by a client that does not trust its CA, and refuses cleartext clients", async () => {
    const other = writeCertificates(join(folder.dir, "other"));
    const stranger = openInternalPlane(planeSettings(keys, "chat", { caFile: other.caFile }), "chat", logger, { listenHosts: ["127.0.0.1"] });
    try {
      const client = createClient(IdGenService, stranger.transport(new URL(server.url).host, "idgen"));
      await assert.rejects(client.nextIds({ count: 1 }), (err) => /verify|certificate/i.test(ConnectError.from(err).rawMessage));
    } finally {
      stranger.close();
    }
    const cleartext = createClient(IdGenService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.port}` }));
    await assert.rejects(cleartext.nextIds({ count: 1 }), (err) => err instanceof Error);
  });

  it("picks up a renewed certificate without a restart, and calls keep working", async () => {
    const ca = readFileSync(certs.caFile);
    const before = await servedSerial(server.port, ca);
    const renewed = issueCertificate(certs, join(folder.dir, "pki"), "renewed", ["localhost", "127.0.0.1"]);
    replaceFile(certs.keyFile, readFileSync(renewed.keyFile));
    replaceFile(certs.certFile, readFileSync(renewed.certFile));
    await until(async () => (await servedSerial(server.port, ca)) !== before, "the renewed certificate to be served");
    const client = createClient(IdGenService, chat.transport(new URL(server.url).host, "idgen"));
    assert.deepEqual((await client.nextIds({ count: 5 })).ids, [5n]);
  });
});

describe("the service server > slow clients", () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ host: "127.0.0.1", port: 0, serviceNames: [], logger, metrics: new Metrics(), routes: () => {}, headersTimeoutMs: 300 });
  });
  after(() => server.close(100));

  /** Resolves when the server has closed the connection (reading whatever it answered, such as a 408). */
  const closed = (socket: net.Socket) => {
    socket.resume();
    return new Promise<void>((resolve) => socket.on("close", () => resolve()));
  };

  it("closes a connection that never sends anything", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    await closed(socket);
  });

  it("closes a request whose headers never finish (a half-open upgrade)", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n");
    await closed(socket);
  });
});

describe("internal plane > TLS with one server name for every instance (TLS_SERVER_NAME)", () => {
  const folder = credentialsDir("tls-name");
  const keys = keysFor(folder.dir, ["idgen", "chat"]);
  let server: RunningServer;
  let idgen: InternalPlane;
  let certs: Certificates;

  before(async () => {
    // The certificate names the service, not the address it is reached at (a pod IP).
    certs = writeCertificates(join(folder.dir, "pki"), ["parley-internal.parley.svc"]);
    idgen = openInternalPlane(planeSettings(keys, "idgen", { tls: { certFile: certs.certFile, keyFile: certs.keyFile } }), "idgen", logger, {
      listenHosts: ["127.0.0.1"],
    });
    server = await startIdgenOverTls(idgen);
  });
  after(async () => {
    await server.close(100);
    idgen.close();
    folder.cleanup();
  });

  it("verifies the server against the configured name when calling its address", async () => {
    const chat = openInternalPlane(planeSettings(keys, "chat", { caFile: certs.caFile, serverName: "parley-internal.parley.svc" }), "chat", logger, {
      listenHosts: ["127.0.0.1"],
    });
    try {
      const client = createClient(IdGenService, chat.transport(new URL(server.url).host, "idgen"));
      assert.deepEqual((await client.nextIds({ count: 3 })).ids, [3n]);
    } finally {
      chat.close();
    }
  });

  it("refuses the same server when the name is not set (the certificate does not name 127.0.0.1) or is another", async () => {
    for (const serverName of [undefined, "other.parley.svc"]) {
      const chat = openInternalPlane(planeSettings(keys, "chat", { caFile: certs.caFile, serverName }), "chat", logger, { listenHosts: ["127.0.0.1"] });
      try {
        const client = createClient(IdGenService, chat.transport(new URL(server.url).host, "idgen"));
        await assert.rejects(client.nextIds({ count: 1 }), (err: unknown) => {
          assert.match(String(ConnectError.from(err).cause ?? err), /altnames|Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME_INVALID/i);
          return true;
        });
      } finally {
        chat.close();
      }
    }
  });
});
