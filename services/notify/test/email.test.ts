import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { SMTPServer } from "smtp-server";
import { EmailProvider } from "../src/adapters/providers/email.js";
import type { Content, Target } from "../src/ports.js";
import { closedPort } from "./fixtures.js";

/** Builds the error smtp-server turns into an SMTP reply with that code. */
function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

interface Received {
  from: string;
  to: string[];
  raw: string;
}

/**
 * An SMTP stand-in (STACK-NOTES 8): records each message; rejects
 * nobody@ with 550 and busy@ with 451 at RCPT TO, and a body containing
 * "SPAM" with 554 at DATA.
 */
async function startFakeSmtp() {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("nobody@")) return callback(smtpError(550, "5.1.1 No such user"));
      if (address.address.startsWith("busy@")) return callback(smtpError(451, "4.3.0 Mailbox busy, try later"));
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        if (raw.includes("SPAM")) return callback(smtpError(554, "5.7.1 Message rejected as spam"));
        const { mailFrom, rcptTo } = session.envelope;
        received.push({ from: mailFrom ? mailFrom.address : "", to: rcptTo.map((r) => r.address), raw });
        return callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return { server, port, received };
}

const from = '"Parley" <no-reply@parley.example>';
const content: Content = { title: "New message from Ada", body: "hello there", data: {} };
const to = (address: string): Target => ({ channel: "email", address });

describe("email provider", () => {
  let fake: Awaited<ReturnType<typeof startFakeSmtp>>;
  let provider: EmailProvider;

  before(async () => {
    fake = await startFakeSmtp();
    provider = new EmailProvider({ host: "127.0.0.1", port: fake.port, secure: false, ignoreTLS: true, from });
  });
  after(async () => {
    await provider.close();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  });
  beforeEach(() => {
    fake.received.length = 0;
  });

  it("sends the title as subject and the body as text, and reports the Message-ID", async () => {
    const outcome = await provider.send(to("ada@parley.example"), content);

    assert.equal(outcome.kind, "sent");
    assert.match(outcome.kind === "sent" ? String(outcome.providerId) : "", /^<.+@.+>$/);
    const [mail] = fake.received;
    assert.ok(mail);
    assert.equal(mail.from, "no-reply@parley.example");
    assert.deepEqual(mail.to, ["ada@parley.example"]);
    assert.match(mail.raw, /^Subject: New message from Ada\r$/m);
    assert.match(mail.raw, /\r\n\r\nhello there/);
  });

  it("reports an invalid target when the server refuses the recipient with 550", async () => {
    assert.deepEqual(await provider.send(to("nobody@parley.example"), content), {
      kind: "invalid-target",
      reason: "smtp 550 on RCPT TO",
    });
    assert.equal(fake.received.length, 0);
  });

  it("reports an invalid target for an address nodemailer cannot use, without a reason that names it", async () => {
    const outcome = await provider.send(to("not an address"), content);
    assert.deepEqual(outcome, { kind: "invalid-target", reason: "smtp: address not usable" });
  });

  it("asks for a retry when the server defers the recipient with 451", async () => {
    assert.deepEqual(await provider.send(to("busy@parley.example"), content), {
      kind: "retry",
      reason: "smtp 451 on RCPT TO",
    });
  });

  it("asks for a retry when the connection is refused", async () => {
    const refused = new EmailProvider({ host: "127.0.0.1", port: await closedPort(), secure: false, ignoreTLS: true, from });
    const outcome = await refused.send(to("ada@parley.example"), content);
    await refused.close();
    assert.deepEqual(outcome, { kind: "retry", reason: "smtp connection: ECONNREFUSED" });
  });

  it("fails for good when the server refuses the message itself with 554", async () => {
    assert.deepEqual(await provider.send(to("ada@parley.example"), { ...content, body: "SPAM" }), {
      kind: "failed",
      reason: "smtp 554 on DATA",
    });
  });

  it("throws for a target of another channel", async () => {
    await assert.rejects(provider.send({ channel: "sms", phone: "+15550100" }, content), /cannot send to a sms target/);
  });
});
