import assert from "node:assert/strict";
import { createECDH, randomBytes, type ECDH } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import https from "node:https";
import { createRequire } from "node:module";
import net from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import webpush from "web-push";
import type { Content, Target } from "../src/ports.js";
import { WebPushProvider, toTopic } from "../src/adapters/providers/webpush.js";
import { closedPort } from "./fixtures.js";

// http_ece is web-push's own dependency and ships no types: its CommonJS exports are { encrypt, decrypt }.
const ece = createRequire(import.meta.url)("http_ece") as {
  decrypt(body: Buffer, params: { version: "aes128gcm"; privateKey: ECDH; authSecret: string }): Buffer;
};

/** web-push always uses https.request; this agent hands it a plain TCP socket to the local fake instead (STACK-NOTES 8). */
class LocalAgent extends https.Agent {
  constructor(private readonly port: number) {
    super();
  }
  override createConnection(): net.Socket {
    return net.connect(this.port, "127.0.0.1");
  }
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
type Reply = { status: number; headers?: Record<string, string> };

/** A push service stand-in: records each request and answers with `reply`. */
async function startFakePushService() {
  const fake = { seen: [] as Seen[], reply: { status: 201 } as Reply, port: 0, server: undefined as unknown as Server };
  fake.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      fake.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(fake.reply.status, { location: "https://push.example.test/m/1", ...fake.reply.headers }).end();
    });
  });
  await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
  fake.port = (fake.server.address() as net.AddressInfo).port;
  return fake;
}

function newSubscriber() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16).toString("base64url");
  const target: Target = {
    channel: "webpush",
    endpoint: "https://push.example.test/wpush/v2/subscriber-1",
    p256dh: ecdh.getPublicKey().toString("base64url"),
    auth,
  };
  return { ecdh, auth, target };
}

const vapid = { subject: "mailto:ops@parley.example", ...webpush.generateVAPIDKeys() };
const content: Content = { title: "Ada", body: "hello there", data: { conversationId: "42" }, collapseKey: "conv-42", badge: 3 };

describe("web push provider", () => {
  let fake: Awaited<ReturnType<typeof startFakePushService>>;
  let provider: WebPushProvider;
  let agent: LocalAgent;

  before(async () => {
    fake = await startFakePushService();
    agent = new LocalAgent(fake.port);
    provider = new WebPushProvider({ vapid, agent });
  });
  after(async () => {
    await provider.close();
    agent.destroy();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  });
  beforeEach(() => {
    fake.seen.length = 0;
    fake.reply = { status: 201 };
  });

  it("sends an encrypted JSON payload with VAPID auth, a one-day TTL and the collapse key as topic", async () => {
    const { ecdh, auth, target } = newSubscriber();

    const outcome = await provider.send(target, content);

    assert.deepEqual(outcome, { kind: "sent", providerId: "https://push.example.test/m/1" });
    const [request] = fake.seen;
    assert.ok(request);
    assert.equal(request.method, "POST");
    assert.equal(request.url, "/wpush/v2/subscriber-1");
    assert.ok(request.headers.authorization?.startsWith("vapid t="), request.headers.authorization);
    assert.equal(request.headers["content-encoding"], "aes128gcm");
    assert.equal(request.headers.ttl, "86400");
    assert.equal(request.headers.topic, "conv-42");
    const plain = ece.decrypt(request.body, { version: "aes128gcm", privateKey: ecdh, authSecret: auth });
    assert.deepEqual(JSON.parse(plain.toString("utf8")), {
      title: "Ada",
      body: "hello there",
      data: { conversationId: "42" },
      badge: 3,
    });
  });

  it("treats 202 as sent", async () => {
    fake.reply = { status: 202 };
    const outcome = await provider.send(newSubscriber().target, content);
    assert.equal(outcome.kind, "sent");
  });

  it("hashes a collapse key that is too long or not URL-safe into a 32-character topic", async () => {
    const longKey = `conversation:${"9".repeat(40)}`;

    await provider.send(newSubscriber().target, { ...content, collapseKey: longKey });

    const topic = fake.seen[0]?.headers.topic;
    assert.equal(topic, toTopic(longKey));
    assert.match(String(topic), /^[A-Za-z0-9_-]{32}$/);
    assert.equal(toTopic(longKey), toTopic(longKey), "same key, same topic");
  });

  it("sends no topic when there is no collapse key, and honours a custom TTL", async () => {
    const shortLived = new WebPushProvider({ vapid, agent, ttlSeconds: 60 });
    const { collapseKey: _unused, ...withoutKey } = content;

    await shortLived.send(newSubscriber().target, withoutKey);

    assert.equal(fake.seen[0]?.headers.topic, undefined);
    assert.equal(fake.seen[0]?.headers.ttl, "60");
  });

  for (const status of [404, 410]) {
    it(`reports an invalid target when the push service answers ${status}`, async () => {
      fake.reply = { status };
      assert.deepEqual(await provider.send(newSubscriber().target, content), {
        kind: "invalid-target",
        reason: `push service answered ${status}`,
      });
    });
  }

  it("reports an invalid target for malformed subscription keys without calling the push service", async () => {
    const target: Target = { ...newSubscriber().target, p256dh: "bm90IGEga2V5" } as Target;
    assert.equal((await provider.send(target, content)).kind, "invalid-target");
    assert.equal(fake.seen.length, 0);
  });

  it("asks for a retry after 429, using Retry-After", async () => {
    fake.reply = { status: 429, headers: { "retry-after": "7" } };
    assert.deepEqual(await provider.send(newSubscriber().target, content), {
      kind: "retry",
      reason: "push service answered 429",
      retryAfterMs: 7000,
    });
  });

  it("asks for a retry after 503", async () => {
    fake.reply = { status: 503 };
    assert.deepEqual(await provider.send(newSubscriber().target, content), {
      kind: "retry",
      reason: "push service answered 503",
    });
  });

  it("asks for a retry when the connection is refused", async () => {
    const refusing = new LocalAgent(await closedPort());
    const outcome = await new WebPushProvider({ vapid, agent: refusing }).send(newSubscriber().target, content);
    refusing.destroy();
    assert.deepEqual(outcome, { kind: "retry", reason: "network: ECONNREFUSED" });
  });

  for (const status of [400, 413]) {
    it(`fails for good when the push service answers ${status}`, async () => {
      fake.reply = { status };
      assert.deepEqual(await provider.send(newSubscriber().target, content), {
        kind: "failed",
        reason: `push service answered ${status}`,
      });
    });
  }

  it("throws for a target of another channel", async () => {
    await assert.rejects(provider.send({ channel: "sms", phone: "+15550100" }, content), /cannot send to a sms target/);
  });
});
