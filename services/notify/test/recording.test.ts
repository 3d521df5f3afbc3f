import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { Content } from "../src/ports.js";
import { RecordingProvider } from "../src/adapters/providers/recording.js";

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const content: Content = { title: "Secret plans", body: "meet at the old mill", data: { conversationId: "42" } };

describe("RecordingProvider", () => {
  it("reports every send as sent and keeps it, oldest first", async () => {
    const { logger } = capturingLogger();
    const provider = new RecordingProvider({ channel: "email", logger });

    assert.deepEqual(await provider.send({ channel: "email", address: "ada@example.com" }, content), { kind: "sent" });
    await provider.send({ channel: "email", address: "bob@example.com" }, { ...content, title: "second" });

    assert.deepEqual(
      provider.sent.map((s) => [s.target, s.content.title]),
      [
        [{ channel: "email", address: "ada@example.com" }, "Secret plans"],
        [{ channel: "email", address: "bob@example.com" }, "second"],
      ],
    );
    assert.ok(provider.sent[0]?.at instanceof Date);
  });

  it("keeps only the most recent sends, 1000 unless told otherwise", async () => {
    const { logger } = capturingLogger();
    const small = new RecordingProvider({ channel: "sms", logger, capacity: 2 });
    for (const n of [1, 2, 3]) await small.send({ channel: "sms", phone: "+100" }, { ...content, title: `#${n}` });
    assert.deepEqual(
      small.sent.map((s) => s.content.title),
      ["#2", "#3"],
    );

    const standard = new RecordingProvider({ channel: "sms", logger });
    for (let n = 0; n < 1001; n++) await standard.send({ channel: "sms", phone: "+100" }, content);
    assert.equal(standard.sent.length, 1000);
  });

  it("logs the channel, target kind and title length, never the text or the address", async () => {
    const { logger, lines } = capturingLogger();
    const provider = new RecordingProvider({ channel: "fcm", logger });

    await provider.send({ channel: "fcm", token: "device-token-secret" }, content);

    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.channel, "fcm");
    assert.equal(lines[0]?.targetKind, "token");
    assert.equal(lines[0]?.titleLength, "Secret plans".length);
    const raw = JSON.stringify(lines);
    for (const secret of ["Secret plans", "meet at the old mill", "device-token-secret"]) {
      assert.ok(!raw.includes(secret), `log leaked ${secret}`);
    }
  });

  it("is unaffected when the caller later mutates the content it sent", async () => {
    const { logger } = capturingLogger();
    const provider = new RecordingProvider({ channel: "apns", logger });
    const data: Record<string, string> = { conversationId: "1" };

    await provider.send({ channel: "apns", token: "t" }, { ...content, data });
    data.conversationId = "2";

    assert.equal(provider.sent[0]?.content.data.conversationId, "1");
  });

  it("refuses a target of another channel as a programming error", async () => {
    const { logger } = capturingLogger();
    const provider = new RecordingProvider({ channel: "webpush", logger });

    await assert.rejects(provider.send({ channel: "email", address: "a@b.c" }, content), /cannot send to a email target/);
  });
});
