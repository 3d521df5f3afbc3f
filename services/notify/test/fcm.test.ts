import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { getApps } from "firebase-admin/app";
import { FcmProvider, fcmFromServiceAccount } from "../src/adapters/providers/fcm.js";
import type { Content } from "../src/ports.js";
import { pushContent } from "./fixtures.js";
import { credential, fcmDetail, fcmError, LocalAgent, startFakeFcm } from "./stand-ins/fcm.js";

const target = { channel: "fcm", token: "device-token-1" } as const;
const content: Content = pushContent;

describe("FcmProvider", () => {
  let fake: Awaited<ReturnType<typeof startFakeFcm>>;
  let provider: FcmProvider;

  before(async () => {
    fake = await startFakeFcm();
    provider = new FcmProvider({ projectId: "demo-test", credential, httpAgent: new LocalAgent(fake.port) });
  });
  after(async () => {
    await provider.close();
    fake.server.closeAllConnections();
    await new Promise((resolve) => fake.server.close(resolve));
  });
  beforeEach(() => {
    fake.seen.length = 0;
    fake.replies.length = 0;
  });

  it("posts the message to messages:send with the credential's bearer token and reports the message name", async () => {
    const outcome = await provider.send(target, content);

    assert.equal(outcome.kind, "sent");
    assert.match(outcome.kind === "sent" ? (outcome.providerId ?? "") : "", /^projects\/demo-test\/messages\/\d+$/);
    const [request] = fake.seen;
    assert.equal(request?.method, "POST");
    assert.equal(request?.path, "/v1/projects/demo-test/messages:send");
    assert.equal(request?.authorization, "Bearer test-token");
    const message = request?.body.message;
    assert.equal(message?.token, "device-token-1");
    assert.deepEqual(message?.notification, { title: "Ada", body: "see you at 6" });
    assert.deepEqual(message?.data, { conversationId: "123456789012345678" });
    assert.equal(message?.android?.collapse_key, "conv-123");
    assert.equal(message?.android?.notification?.notification_count, 3);
    assert.equal(message?.apns?.payload.aps.badge, 3);
  });

  it("leaves android and apns options out when there is no collapse key or badge", async () => {
    await provider.send(target, { title: "t", body: "b", data: {} });

    assert.equal(fake.seen[0]?.body.message.android, undefined);
    assert.equal(fake.seen[0]?.body.message.apns, undefined);
  });

  it("reports an unregistered token as an invalid target", async () => {
    fake.replies.push({ status: 404, body: fcmError(404, "NOT_FOUND", "Requested entity was not found.", [fcmDetail("UNREGISTERED")]) });

    const outcome = await provider.send(target, content);

    assert.equal(outcome.kind, "invalid-target");
    assert.match(outcome.kind === "invalid-target" ? outcome.reason : "", /registration-token-not-registered/);
  });

  it("reports a malformed token (INVALID_ARGUMENT about the token) as an invalid target", async () => {
    fake.replies.push({
      status: 400,
      body: fcmError(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", [fcmDetail("INVALID_ARGUMENT")]),
    });

    assert.equal((await provider.send(target, content)).kind, "invalid-target");
  });

  it("reports any other INVALID_ARGUMENT as failed, keeping the token", async () => {
    const violation = { field: "message.data[0].value", description: "Invalid value" };
    fake.replies.push({
      status: 400,
      body: fcmError(400, "INVALID_ARGUMENT", "Invalid value at 'message.data[0].value'", [
        { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [violation] },
      ]),
    });

    const outcome = await provider.send(target, content);

    assert.deepEqual(outcome, { kind: "failed", reason: "messaging/invalid-argument (HTTP 400)" });
  });

  it("asks for a retry on 429 QUOTA_EXCEEDED, honouring Retry-After", async () => {
    fake.replies.push({
      status: 429,
      headers: { "retry-after": "30" },
      body: fcmError(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", [fcmDetail("QUOTA_EXCEEDED")]),
    });

    const outcome = await provider.send(target, content);

    assert.deepEqual(outcome, { kind: "retry", reason: "messaging/message-rate-exceeded (HTTP 429)", retryAfterMs: 30_000 });
  });

  it("asks for a retry on 503 UNAVAILABLE that firebase-admin gave up on", async () => {
    // A Retry-After past firebase-admin's 60 s cap makes it hand the 503 back at once instead of retrying itself.
    fake.replies.push({
      status: 503,
      headers: { "retry-after": "120" },
      body: fcmError(503, "UNAVAILABLE", "The service is currently unavailable.", [fcmDetail("UNAVAILABLE")]),
    });

    const outcome = await provider.send(target, content);

    assert.deepEqual(outcome, { kind: "retry", reason: "messaging/server-unavailable (HTTP 503)", retryAfterMs: 120_000 });
    assert.equal(fake.seen.length, 1);
  });

  it("lets firebase-admin retry a brief 503 itself", async () => {
    fake.replies.push({ status: 503, body: fcmError(503, "UNAVAILABLE", "unavailable", [fcmDetail("UNAVAILABLE")]) });

    const outcome = await provider.send(target, content);

    assert.equal(outcome.kind, "sent");
    assert.equal(fake.seen.length, 2);
  });

  it("asks for a retry on 500 INTERNAL", async () => {
    fake.replies.push({ status: 500, body: fcmError(500, "INTERNAL", "Internal error.", [fcmDetail("INTERNAL")]) });

    assert.equal((await provider.send(target, content)).kind, "retry");
  });

  it("reports a 400 it cannot attribute to the token as failed", async () => {
    fake.replies.push({ status: 400, body: "bad request, not json" });

    assert.equal((await provider.send(target, content)).kind, "failed");
  });

  it("refuses a target of another channel as a programming error", async () => {
    await assert.rejects(provider.send({ channel: "apns", token: "x" }, content), /cannot send to a apns target/);
  });
});

describe("FcmProvider without a reachable FCM", () => {
  it("asks for a retry when the connection is refused", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const provider = new FcmProvider({ projectId: "demo-test", credential, httpAgent: new LocalAgent(port) });

    try {
      const outcome = await provider.send(target, content);
      assert.equal(outcome.kind, "retry");
      assert.match(outcome.kind === "retry" ? outcome.reason : "", /app\/network-error/);
    } finally {
      await provider.close();
    }
  });

  it("deletes its firebase app on close, so names never collide", async () => {
    const provider = new FcmProvider({ projectId: "demo-test", credential, appName: "fcm-close-test" });
    assert.ok(getApps().some((app) => app.name === "fcm-close-test"));

    await provider.close();

    assert.ok(!getApps().some((app) => app.name === "fcm-close-test"));
  });

  it("builds a provider from a service account key file and rejects one without a key", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const account = {
      type: "service_account",
      project_id: "demo-test",
      client_email: "notify@demo-test.iam.gserviceaccount.com",
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
    };

    const provider = fcmFromServiceAccount(JSON.stringify(account));
    assert.equal(provider.channel, "fcm");
    await provider.close();

    assert.throws(() => fcmFromServiceAccount(JSON.stringify({ ...account, private_key: undefined })), /private_key/);
  });

  // Regression: JSON.parse's message quotes the text it failed on, and that
  // message reached the start-up error and its log line.
  it("refuses a service account that is not JSON without quoting any of it", () => {
    // A value that lost its quotes on its way through a shell: JSON.parse quotes the text around the error.
    const broken = '{"type": "service_account", "private_key": MIIEvQIBADANBgkqhkiG9w0BAQEFAASC}';
    assert.throws(
      () => fcmFromServiceAccount(broken),
      (err: unknown) =>
        err instanceof Error && /is not valid JSON/.test(err.message) && !err.message.includes("MIIEvQ") && !err.message.includes("PRIVATE KEY"),
    );
  });
});
