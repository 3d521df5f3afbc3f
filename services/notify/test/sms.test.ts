import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Content, Target } from "../src/ports.js";
import { MAX_SMS_CHARS, SmsHttpProvider } from "../src/adapters/providers/sms.js";
import { closedPort } from "./fixtures.js";
import { startFakeSmsGateway } from "./stand-ins/sms.js";

const token = "test-token";
const target: Target = { channel: "sms", phone: "+15550100" };
const content: Content = { title: "Ada", body: "hello there", data: {} };

describe("sms http provider", () => {
  let fake: Awaited<ReturnType<typeof startFakeSmsGateway>>;
  let provider: SmsHttpProvider;

  before(async () => {
    fake = await startFakeSmsGateway();
    provider = new SmsHttpProvider({ url: fake.url, token });
  });
  after(async () => {
    await provider.close();
    fake.server.closeAllConnections();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  });
  beforeEach(() => {
    fake.seen.length = 0;
    fake.reply = { status: 201 };
  });

  it("posts {to, body} with a bearer token and reports the gateway's message id", async () => {
    fake.reply = { status: 201, json: { id: "msg-1" } };

    const outcome = await provider.send(target, content);

    assert.deepEqual(outcome, { kind: "sent", providerId: "msg-1" });
    const [request] = fake.seen;
    assert.ok(request);
    assert.equal(request.method, "POST");
    assert.equal(request.url, "/v1/messages");
    assert.equal(request.headers.authorization, "Bearer test-token");
    assert.match(String(request.headers["content-type"]), /^application\/json/);
    assert.deepEqual(JSON.parse(request.body), { to: "+15550100", body: "Ada: hello there" });
  });

  it("treats 200 and 202 as sent, with or without an id", async () => {
    fake.reply = { status: 200, json: { id: 7 } };
    assert.deepEqual(await provider.send(target, content), { kind: "sent", providerId: "7" });
    fake.reply = { status: 202 };
    assert.deepEqual(await provider.send(target, content), { kind: "sent" });
  });

  it(`cuts the text to ${MAX_SMS_CHARS} characters without splitting a surrogate pair`, async () => {
    await provider.send(target, { ...content, body: "😀".repeat(2000) });

    const sent = Array.from(JSON.parse(fake.seen[0]?.body ?? "{}").body as string);
    assert.equal(sent.length, MAX_SMS_CHARS);
    assert.equal(sent.at(-1), "😀");
  });

  for (const status of [404, 410, 422]) {
    it(`reports an invalid target when the gateway answers ${status} with code invalid_number`, async () => {
      fake.reply = { status, json: { code: "invalid_number", message: "not a mobile number" } };
      assert.deepEqual(await provider.send(target, content), {
        kind: "invalid-target",
        reason: `sms gateway answered ${status} (invalid_number)`,
      });
    });
  }

  it("asks for a retry after 429, using Retry-After", async () => {
    fake.reply = { status: 429, headers: { "retry-after": "30" } };
    assert.deepEqual(await provider.send(target, content), {
      kind: "retry",
      reason: "sms gateway answered 429",
      retryAfterMs: 30_000,
    });
  });

  it("asks for a retry after 503", async () => {
    fake.reply = { status: 503, json: { code: "unavailable" } };
    assert.deepEqual(await provider.send(target, content), { kind: "retry", reason: "sms gateway answered 503" });
  });

  it("asks for a retry when the connection is refused", async () => {
    const refused = new SmsHttpProvider({ url: `http://127.0.0.1:${await closedPort()}/v1/messages`, token });
    assert.deepEqual(await refused.send(target, content), { kind: "retry", reason: "sms gateway unreachable" });
  });

  it("asks for a retry when the gateway does not answer in time", async () => {
    fake.reply = "hang";
    const impatient = new SmsHttpProvider({ url: fake.url, token, timeoutMs: 100 });
    assert.deepEqual(await impatient.send(target, content), { kind: "retry", reason: "sms gateway timed out" });
  });

  it("fails for good on 400, and on a 404 that does not say the number is invalid", async () => {
    fake.reply = { status: 400, json: { code: "missing_body" } };
    assert.deepEqual(await provider.send(target, content), { kind: "failed", reason: "sms gateway answered 400" });
    fake.reply = { status: 404, json: { code: "no_such_route" } };
    assert.deepEqual(await provider.send(target, content), { kind: "failed", reason: "sms gateway answered 404" });
  });

  it("throws for a target of another channel", async () => {
    await assert.rejects(provider.send({ channel: "email", address: "ada@parley.example" }, content), /cannot send to a email target/);
  });
});
