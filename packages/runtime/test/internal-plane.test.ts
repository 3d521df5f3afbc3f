import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ChatService, type StreamRequest } from "@parley/contracts/parley/chat/v1/chat";
import { Health } from "@parley/contracts/grpc/health/v1/health";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { until } from "@parley/testkit";
import { decodeProtectedHeader } from "jose";
import { accessPolicy } from "../src/auth/access-policy.js";
import { openInternalPlane, type InternalPlane } from "../src/auth/internal-plane.js";
import { generateSigningKey, parsePrivateKey, privateKeyPem, publicKeyPem } from "../src/auth/keys.js";
import { AsyncQueue } from "../src/async-queue.js";
import { actingUserKey, callerKey, parsePrincipal, SERVICE_TOKEN_HEADER, USER_HEADER } from "../src/auth/principals.js";
import { ServiceTokenSigner } from "../src/auth/service-tokens.js";
import { ConfigError } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { startServer, type RunningServer } from "../src/server.js";
import { credentialsDir, join, keysFor, planeSettings, replaceFile } from "./plane-fixtures.js";

const logger = createLogger("test", "silent");
const policy = accessPolicy(
  [IdGenService.typeName, { audience: "idgen", methods: { NextIds: { roles: ["chat"] }, DecodeId: { roles: ["operator"] } } }],
  [ChatService.typeName, { audience: "chat", methods: { GetCursor: { roles: ["gateway"], actingUser: "required" }, Stream: { roles: ["gateway"] } } }],
);

function parseKeyFile(path: string) {
  return parsePrivateKey(readFileSync(path));
}

function codeOf(err: unknown): Code {
  return ConnectError.from(err).code;
}

describe("internal plane > service tokens", () => {
  const folder = credentialsDir("plane");
  const keys = keysFor(folder.dir, ["idgen", "chat", "gateway", "operator:alice"]);
  let server: RunningServer;
  let idgen: InternalPlane;
  let chat: InternalPlane;
  let gateway: InternalPlane;
  const seen: { caller?: string | undefined; userId?: bigint; kid?: string }[] = [];

  before(async () => {
    idgen = openInternalPlane(planeSettings(keys, "idgen"), "idgen", logger, { listenHosts: ["127.0.0.1"] });
    chat = openInternalPlane(planeSettings(keys, "chat"), "chat", logger, { listenHosts: ["127.0.0.1"] });
    gateway = openInternalPlane(planeSettings(keys, "gateway"), "gateway", logger, { listenHosts: ["127.0.0.1"] });
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      serviceNames: [IdGenService.typeName, ChatService.typeName],
      logger,
      metrics: new Metrics(),
      interceptors: [idgen.guard(policy)],
      routes: (router) => {
        router.service(IdGenService, {
          nextIds(req, ctx) {
            seen.push({ caller: ctx.values.get(callerKey)?.name, kid: decodeProtectedHeader(ctx.requestHeader.get(SERVICE_TOKEN_HEADER)!).kid as string });
            return { ids: [BigInt(req.count)] };
          },
          decodeId: () => ({}),
        });
        router.service(ChatService, {
          getCursor(_req, ctx) {
            const acting = ctx.values.get(actingUserKey)!;
            seen.push({ caller: ctx.values.get(callerKey)?.name, userId: acting.userId });
            return { seq: acting.userId, headSeq: acting.deviceId };
          },
          async *stream(requests: AsyncIterable<StreamRequest>) {
            for await (const request of requests) yield { replies: request.commands.map((c) => ({ correlationId: c.correlationId })) };
          },
        });
      },
    });
  });
  after(async () => {
    await server.close(100);
    for (const plane of [idgen, chat, gateway]) plane.close();
    folder.cleanup();
  });

  const bare = () => createGrpcTransport({ baseUrl: server.url });

  it("refuses a call without a service token as UNAUTHENTICATED", async () => {
    await assert.rejects(
      createClient(IdGenService, bare()).nextIds({ count: 1 }),
      (err) => codeOf(err) === Code.Unauthenticated && /service token is required/.test(ConnectError.from(err).rawMessage),
    );
  });

  it("lets the allowed role call and tells the handler who called", async () => {
    const client = createClient(IdGenService, chat.transport(new URL(server.url).host, "idgen"));
    assert.deepEqual((await client.nextIds({ count: 3 })).ids, [3n]);
    assert.equal(seen.at(-1)?.caller, "chat");
  });

  it("refuses another role as PERMISSION_DENIED, naming the caller and the method", async () => {
    const client = createClient(IdGenService, gateway.transport(new URL(server.url).host, "idgen"));
    await assert.rejects(
      client.nextIds({ count: 1 }),
      (err) => codeOf(err) === Code.PermissionDenied && /gateway may not call parley.idgen.v1.IdGenService\/NextIds/.test(ConnectError.from(err).rawMessage),
    );
  });

  it("refuses methods without a rule (default deny)", async () => {
    const client = createClient(ChatService, gateway.transport(new URL(server.url).host, "chat"));
    await assert.rejects(client.send({}), (err) => codeOf(err) === Code.PermissionDenied);
  });

  it("refuses a token meant for another service", async () => {
    const client = createClient(IdGenService, chat.transport(new URL(server.url).host, "chat"));
    await assert.rejects(
      client.nextIds({ count: 1 }),
      (err) => codeOf(err) === Code.Unauthenticated && /not meant for idgen/.test(ConnectError.from(err).rawMessage),
    );
  });

  it("refuses a token signed by a key the trust file does not list, even naming a trusted principal", async () => {
    const forger = new ServiceTokenSigner(parsePrincipal("chat")!, { current: generateSigningKey() }, 300);
    const client = createClient(IdGenService, bare());
    const headers = { [SERVICE_TOKEN_HEADER]: await forger.token("idgen") };
    await assert.rejects(
      client.nextIds({ count: 1 }, { headers }),
      (err) => codeOf(err) === Code.Unauthenticated && /does not trust/.test(ConnectError.from(err).rawMessage),
    );
  });

  it("refuses an expired token and one that claims a longer life than allowed", async () => {
    const key = { current: parseKeyFile(keys.keyFile("chat")) };
    const client = createClient(IdGenService, bare());
    const old = new ServiceTokenSigner(parsePrincipal("chat")!, key, 60, () => Date.now() - 3_600_000);
    await assert.rejects(client.nextIds({ count: 1 }, { headers: { [SERVICE_TOKEN_HEADER]: await old.token("idgen") } }), (err) =>
      /expired/.test(ConnectError.from(err).rawMessage),
    );
    const long = new ServiceTokenSigner(parsePrincipal("chat")!, key, 86_400);
    await assert.rejects(client.nextIds({ count: 1 }, { headers: { [SERVICE_TOKEN_HEADER]: await long.token("idgen") } }), (err) =>
      /lives longer/.test(ConnectError.from(err).rawMessage),
    );
  });

  it("refuses a token whose issuer is not the principal of its key", async () => {
    const key = { current: parseKeyFile(keys.keyFile("chat")) };
    const liar = new ServiceTokenSigner(parsePrincipal("gateway")!, key, 300);
    const client = createClient(ChatService, bare());
    const headers = { [SERVICE_TOKEN_HEADER]: await liar.token("chat"), [USER_HEADER]: "1" };
    await assert.rejects(client.getCursor({}, { headers }), (err) => codeOf(err) === Code.Unauthenticated);
  });

  it("takes the acting user only from a caller allowed to act for users", async () => {
    const asGateway = createClient(ChatService, gateway.transport(new URL(server.url).host, "chat"));
    const cursor = await asGateway.getCursor({}, { headers: { [USER_HEADER]: "42", "parley-device-id": "7" } });
    assert.deepEqual([cursor.seq, cursor.headSeq], [42n, 7n]);
    await assert.rejects(asGateway.getCursor({}), (err) => codeOf(err) === Code.Unauthenticated, "the acting user is required");
    const asChat = createClient(IdGenService, chat.transport(new URL(server.url).host, "idgen"));
    await assert.rejects(
      asChat.nextIds({ count: 1 }, { headers: { [USER_HEADER]: "42" } }),
      (err) => codeOf(err) === Code.PermissionDenied && /may not name an acting user/.test(ConnectError.from(err).rawMessage),
    );
  });

  it("keeps the health service open for probes", async () => {
    assert.equal((await createClient(Health, bare()).check({})).status, 1);
  });

  it("rotates a key with no failed call, and ends streams opened with the old key once it is no longer trusted", async () => {
    const address = new URL(server.url).host;
    const oldChatKey = parseKeyFile(keys.keyFile("chat"));
    // A gateway stream opened with the gateway's current key, which is rotated out below.
    const streamClient = createClient(ChatService, gateway.transport(address, "chat"));
    const requests = new AsyncQueue<StreamRequest>();
    const replies = streamClient.stream(requests)[Symbol.asyncIterator]();
    requests.push({ commands: [{ correlationId: 1n }] } as StreamRequest);
    assert.equal((await replies.next()).value?.replies[0]?.correlationId, 1n);

    const steady = createClient(IdGenService, chat.transport(address, "idgen"));
    let failures = 0;
    let calls = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        await steady.nextIds({ count: 1 }).then(
          () => calls++,
          () => failures++,
        );
      }
    })();

    // 1. Trust the new keys everywhere (both services' trust files are this one file).
    const trust = JSON.parse(readFileSync(keys.trustFile, "utf8")) as { keys: { principal: string; publicKey: string }[] };
    const newChat = generateSigningKey();
    const newGateway = generateSigningKey();
    replaceFile(
      keys.trustFile,
      JSON.stringify({
        keys: [...trust.keys, { principal: "chat", publicKey: publicKeyPem(newChat) }, { principal: "gateway", publicKey: publicKeyPem(newGateway) }],
      }),
    );
    await until(() => idgen.trust.lookup(newChat.kid) !== undefined && chat.trust.lookup(newChat.kid) !== undefined, "the new key to be trusted");
    // 2. Switch the signers.
    replaceFile(keys.keyFile("chat"), privateKeyPem(newChat));
    replaceFile(keys.keyFile("gateway"), privateKeyPem(newGateway));
    await until(() => seen.at(-1)?.kid === newChat.kid, "chat to sign with the new key");
    // 3. Retire the old keys.
    replaceFile(
      keys.trustFile,
      JSON.stringify({
        keys: trust.keys
          .filter((k) => k.principal !== "chat" && k.principal !== "gateway")
          .concat([
            { principal: "chat", publicKey: publicKeyPem(newChat) },
            { principal: "gateway", publicKey: publicKeyPem(newGateway) },
          ]),
      }),
    );
    await until(() => idgen.trust.lookup(oldChatKey.kid) === undefined, "the old key to be retired");
    const before = calls;
    await until(() => calls > before + 20, "more calls with the new key");
    stop = true;
    await load;
    assert.equal(failures, 0, "no call failed during the rotation");

    await assert.rejects(replies.next(), (err) => codeOf(err) === Code.Unauthenticated, "the stream opened with the retired key ends");
    requests.close();
    const retired = new ServiceTokenSigner(parsePrincipal("chat")!, { current: oldChatKey }, 300);
    const headers = { [SERVICE_TOKEN_HEADER]: await retired.token("idgen") };
    await assert.rejects(
      createClient(IdGenService, bare()).nextIds({ count: 1 }, { headers }),
      (err) => codeOf(err) === Code.Unauthenticated,
      "the retired key no longer works",
    );
  });
});

describe("internal plane > configuration", () => {
  const folder = credentialsDir("plane-config");
  const keys = keysFor(folder.dir, ["chat", "gateway"]);
  after(() => folder.cleanup());

  const problems = (fn: () => unknown): string[] => {
    try {
      (fn() as InternalPlane).close();
    } catch (err) {
      if (err instanceof ConfigError) return [...err.problems];
      throw err;
    }
    return [];
  };

  it("requires a trust file and a key, naming the variables", () => {
    const found = problems(() =>
      openInternalPlane({ ...planeSettings(keys, "chat"), trustFile: undefined, keyFile: undefined }, "chat", logger, { listenHosts: ["127.0.0.1"] }),
    );
    assert.equal(found.length, 2);
    assert.match(found[0]!, /^SERVICE_TRUST_FILE: is required/);
    assert.match(found[1]!, /^SERVICE_KEY_FILE: is required/);
  });

  it("refuses a key that the trust file gives to another principal", () => {
    const found = problems(() => openInternalPlane(planeSettings(keys, "gateway"), "chat", logger, { listenHosts: ["127.0.0.1"] }));
    assert.match(found[0] ?? "", /^SERVICE_KEY_FILE: .* is registered to gateway/);
  });

  it("refuses a malformed trust file, naming it", () => {
    const bad = join(folder.dir, "bad.json");
    replaceFile(bad, '{"keys":[{"principal":"root","publicKey":"x"}]}');
    const found = problems(() => openInternalPlane({ ...planeSettings(keys, "chat"), trustFile: bad }, "chat", logger, { listenHosts: ["127.0.0.1"] }));
    assert.match(found[0] ?? "", /^SERVICE_TRUST_FILE: .*bad.json: keys\[0\].principal "root" must be a role/);
  });

  it("refuses to listen beyond loopback in cleartext unless told the traffic is encrypted elsewhere", () => {
    const found = problems(() => openInternalPlane(planeSettings(keys, "chat"), "chat", logger, { listenHosts: ["0.0.0.0"] }));
    assert.match(found[0] ?? "", /^TLS_CERT_FILE: is required to listen on 0.0.0.0/);
    assert.deepEqual(
      problems(() => openInternalPlane(planeSettings(keys, "chat", { allowPlaintext: true }), "chat", logger, { listenHosts: ["0.0.0.0"] })),
      [],
    );
  });

  it("refuses to send a token in cleartext beyond loopback", async () => {
    const plane = openInternalPlane(planeSettings(keys, "chat"), "chat", logger, { listenHosts: ["127.0.0.1"] });
    try {
      const client = createClient(IdGenService, plane.transport("10.1.2.3:7002", "idgen"));
      await assert.rejects(
        client.nextIds({ count: 1 }),
        (err) => codeOf(err) === Code.Unavailable && /refusing to call 10.1.2.3:7002 in cleartext/.test(ConnectError.from(err).rawMessage),
      );
    } finally {
      plane.close();
    }
  });
});
