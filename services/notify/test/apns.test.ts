import assert from "node:assert/strict";
import { once } from "node:events";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { exportPKCS8, generateKeyPair, jwtVerify, type CryptoKey } from "jose";
import { ApnsProvider } from "../src/adapters/providers/apns.js";
import type { Content } from "../src/ports.js";
import { pushContent } from "./fixtures.js";

interface Reply {
  status: number;
  reason?: string;
  headers?: Record<string, string>;
}

interface Seen {
  headers: http2.IncomingHttpHeaders;
  /** The JSON payload: `aps`, with the custom data beside it. */
  body: { aps: Record<string, unknown> };
}

/** A stand-in for APNs over h2c: answers scripted replies in order, then 200 with an apns-id. */
async function startFakeApns() {
  const seen: Seen[] = [];
  const replies: Reply[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  let next = 1;
  const server = http2.createServer();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  server.on("stream", (stream, headers) => {
    let raw = "";
    stream.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")));
    stream.on("end", () => {
      seen.push({ headers, body: JSON.parse(raw) });
      const reply = replies.shift() ?? { status: 200, headers: { "apns-id": `apns-id-${next++}` } };
      stream.respond({ ":status": reply.status, ...reply.headers });
      stream.end(reply.reason ? JSON.stringify({ reason: reply.reason }) : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, port, seen, replies, sessions };
}

const target = { channel: "apns", token: "a1b2c3d4e5f6" } as const;
const content: Content = pushContent;

describe("ApnsProvider", () => {
  let fake: Awaited<ReturnType<typeof startFakeApns>>;
  let publicKey: CryptoKey;
  let provider: ApnsProvider;
  let connects = 0;
  /** The provider's latest session, as its connect() opened it. */
  let session: http2.ClientHttp2Session | undefined;

  before(async () => {
    fake = await startFakeApns();
    const pair = await generateKeyPair("ES256", { extractable: true });
    publicKey = pair.publicKey;
    provider = new ApnsProvider({
      teamId: "TEAM123456",
      keyId: "KEY1234567",
      privateKeyPem: await exportPKCS8(pair.privateKey),
      topic: "chat.parley.ios",
      connect: () => {
        connects++;
        session = http2.connect(`http://127.0.0.1:${fake.port}`);
        return session;
      },
    });
  });
  after(async () => {
    await provider.close();
    for (const session of fake.sessions) session.destroy();
    await new Promise((resolve) => fake.server.close(resolve));
  });
  beforeEach(() => {
    fake.seen.length = 0;
    fake.replies.length = 0;
  });

  it("posts an alert to /3/device/<token> with topic, push type, priority and collapse id, and reports the apns-id", async () => {
    const outcome = await provider.send(target, content);

    assert.deepEqual(outcome, { kind: "sent", providerId: "apns-id-1" });
    const [request] = fake.seen;
    assert.equal(request?.headers[":method"], "POST");
    assert.equal(request?.headers[":path"], "/3/device/a1b2c3d4e5f6");
    assert.equal(request?.headers["apns-topic"], "chat.parley.ios");
    assert.equal(request?.headers["apns-push-type"], "alert");
    assert.equal(request?.headers["apns-priority"], "10");
    assert.equal(request?.headers["apns-collapse-id"], "conv-123");
    assert.deepEqual(request?.body, {
      aps: { alert: { title: "Ada", body: "see you at 6" }, badge: 3 },
      conversationId: "123456789012345678",
    });
  });

  it("signs an ES256 provider token with kid, iss and iat that Apple's key check accepts", async () => {
    await provider.send(target, content);

    const authorization = String(fake.seen[0]?.headers.authorization);
    assert.match(authorization, /^bearer /);
    const jwt = authorization.slice("bearer ".length);
    const { payload, protectedHeader } = await jwtVerify(jwt, publicKey, { issuer: "TEAM123456", algorithms: ["ES256"] });
    assert.equal(protectedHeader.kid, "KEY1234567");
    assert.ok(typeof payload.iat === "number" && Math.abs(payload.iat - Date.now() / 1000) < 60);
  });

  it("reuses one provider token and one HTTP/2 session across sends", async () => {
    const connectsBefore = connects;
    await provider.send(target, content);
    await provider.send(target, content);

    assert.equal(fake.seen[0]?.headers.authorization, fake.seen[1]?.headers.authorization);
    assert.equal(connects, connectsBefore);
  });

  it("reconnects when APNs closes the session", async () => {
    await provider.send(target, content);
    const connectsBefore = connects;
    const closed = once(session!, "close");
    for (const serverSide of fake.sessions) serverSide.close();
    await closed; // the provider forgets a session on its goaway or close, whichever comes first

    assert.equal((await provider.send(target, content)).kind, "sent");
    assert.equal(connects, connectsBefore + 1);
  });

  it("hashes a collapse key longer than APNs' 64 bytes instead of sending it", async () => {
    await provider.send(target, { ...content, collapseKey: "k".repeat(100) });

    const id = String(fake.seen[0]?.headers["apns-collapse-id"]);
    assert.ok(Buffer.byteLength(id) <= 64);
    assert.notEqual(id, "k".repeat(64));
  });

  it("keeps custom data from overwriting aps", async () => {
    await provider.send(target, { ...content, data: { aps: "spoofed" } });

    assert.deepEqual(fake.seen[0]?.body.aps.alert, { title: "Ada", body: "see you at 6" });
  });

  for (const [status, reason] of [
    [410, "Unregistered"],
    [400, "BadDeviceToken"],
    [400, "DeviceTokenNotForTopic"],
  ] as const) {
    it(`reports ${status} ${reason} as an invalid target`, async () => {
      fake.replies.push({ status, reason });

      assert.deepEqual(await provider.send(target, content), { kind: "invalid-target", reason: `HTTP ${status} ${reason}` });
    });
  }

  it("asks for a retry on 429 TooManyRequests, honouring Retry-After", async () => {
    fake.replies.push({ status: 429, reason: "TooManyRequests", headers: { "retry-after": "5" } });

    assert.deepEqual(await provider.send(target, content), {
      kind: "retry",
      reason: "HTTP 429 TooManyRequests",
      retryAfterMs: 5000,
    });
  });

  for (const [status, reason] of [
    [500, "InternalServerError"],
    [503, "ServiceUnavailable"],
  ] as const) {
    it(`asks for a retry on ${status} ${reason}`, async () => {
      fake.replies.push({ status, reason });

      assert.deepEqual(await provider.send(target, content), { kind: "retry", reason: `HTTP ${status} ${reason}` });
    });
  }

  it("asks for a retry on 403 ExpiredProviderToken and signs a fresh token for the next send", async () => {
    fake.replies.push({ status: 403, reason: "ExpiredProviderToken" });

    assert.equal((await provider.send(target, content)).kind, "retry");
    await provider.send(target, content);

    assert.notEqual(fake.seen[0]?.headers.authorization, fake.seen[1]?.headers.authorization);
  });

  for (const [status, reason] of [
    [400, "PayloadEmpty"],
    [413, "PayloadTooLarge"],
  ] as const) {
    it(`reports ${status} ${reason} as failed`, async () => {
      fake.replies.push({ status, reason });

      assert.deepEqual(await provider.send(target, content), { kind: "failed", reason: `HTTP ${status} ${reason}` });
    });
  }

  it("refuses a target of another channel as a programming error", async () => {
    await assert.rejects(provider.send({ channel: "fcm", token: "x" }, content), /cannot send to a fcm target/);
  });
});

describe("ApnsProvider without a reachable APNs", () => {
  it("asks for a retry when the connection is refused", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const provider = new ApnsProvider({
      teamId: "TEAM123456",
      keyId: "KEY1234567",
      privateKeyPem: await exportPKCS8(privateKey),
      topic: "chat.parley.ios",
      connect: () => http2.connect(`http://127.0.0.1:${port}`),
    });

    try {
      const outcome = await provider.send(target, content);
      assert.equal(outcome.kind, "retry");
      assert.match(outcome.kind === "retry" ? outcome.reason : "", /^network: ECONNREFUSED/);
    } finally {
      await provider.close();
    }
  });
});
