import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { NotifyService, type SendRequest } from "@parley/contracts/parley/notify/v1/notify";
import { createLogger, grpcTransport, Metrics, startServer, type RunningServer } from "@parley/runtime";
import { until } from "@parley/testkit";
import { NotifyPushNotifier, type HandoffResult } from "../src/adapters/notify-push.js";
import type { StoredMessage } from "../src/ports.js";

const silent = createLogger("test", "silent");
/** A user notify does not know: its send is refused NOT_FOUND, which no retry fixes. */
const UNKNOWN_USER = 13n;

/** Breaks the field rules every request to notify shares. */
const hasNul = (request: SendRequest) => Object.values(request.params).some((v) => v.includes("\u0000"));

/** A notify stand-in over real HTTP/2 that counts its calls; `batch` false is a notify older than SendBatch. */
async function standInNotify(batch: boolean) {
  const seen: SendRequest[] = [];
  const calls = { send: 0, sendBatch: 0 };
  const answer = (request: SendRequest) => {
    if (hasNul(request)) throw new ConnectError("params must not contain U+0000", Code.InvalidArgument);
    seen.push(request);
    if (request.userId === UNKNOWN_USER) throw new ConnectError(`user ${request.userId} does not exist`, Code.NotFound);
    return { notificationId: BigInt(seen.length), queued: 1 };
  };
  const routes = (router: ConnectRouter) =>
    router.service(NotifyService, {
      async send(request) {
        calls.send++;
        return answer(request);
      },
      ...(batch
        ? {
            async sendBatch({ requests }) {
              calls.sendBatch++;
              // As notify's shared field rules refuse a batch holding one bad request.
              const bad = requests.findIndex(hasNul);
              if (bad >= 0) throw new ConnectError(`requests[${bad}].params must not contain U+0000`, Code.InvalidArgument);
              return {
                outcomes: requests.map((request) => {
                  try {
                    return { outcome: { case: "sent" as const, value: answer(request) } };
                  } catch (err) {
                    const status = ConnectError.from(err);
                    return { outcome: { case: "error" as const, value: { code: status.code, message: status.rawMessage } } };
                  }
                }),
              };
            },
          }
        : {}),
    });
  const server = await startServer({ host: "127.0.0.1", port: 0, routes, serviceNames: [NotifyService.typeName], logger: silent, metrics: new Metrics() });
  return { server, seen, calls };
}

const message = (messageId: bigint): StoredMessage => ({
  messageId,
  conversationId: 77n,
  senderId: 7n,
  senderDeviceId: 1n,
  clientMsgId: `c-${messageId}`,
  text: "see you at eight",
  createdAt: new Date(0),
});

function notifier(server: RunningServer, displayName = async (userId: bigint): Promise<string | undefined> => `user ${userId}`) {
  const results: HandoffResult[] = [];
  const push = new NotifyPushNotifier({
    transport: grpcTransport(server.url),
    store: { getConversation: async () => undefined, totalUnread: async () => 2 },
    names: { displayName },
    logger: silent,
    onResult: (result) => results.push(result),
    retry: { attempts: 2, initialMs: 10, maxMs: 20 },
  });
  return { push, results };
}

describe("push hand-off to notify (NotifyPushNotifier, over real HTTP/2)", () => {
  const servers: RunningServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close(0))));

  it("hands a burst of pushes to notify in a few SendBatch calls, each push answered on its own", async () => {
    const notify = await standInNotify(true);
    servers.push(notify.server);
    const { push, results } = notifier(notify.server);
    const recipients = [...Array.from({ length: 39 }, (_, i) => 100n + BigInt(i)), UNKNOWN_USER];
    for (const [i, recipientId] of recipients.entries()) push.newMessage({ recipientId, message: message(9_000n + BigInt(i)) });
    await until(() => results.length === recipients.length, "every hand-off to end");
    await push.close();
    assert.equal(results.filter((r) => r === "sent").length, 39);
    assert.deepEqual(
      results.filter((r) => r !== "sent"),
      ["failed"],
      "the unknown user's push alone failed (NOT_FOUND, not retried)",
    );
    assert.equal(notify.calls.send, 0);
    assert.ok(notify.calls.sendBatch <= 8, `${notify.calls.sendBatch} calls for ${recipients.length} pushes`);
    assert.deepEqual(new Set(notify.seen.map((r) => r.userId)), new Set(recipients));
    assert.ok(notify.seen.every((r) => r.eventId.startsWith("message:") && r.eventId.endsWith(`:${r.userId}`)));
  });

  it("sends a batch that notify refused as a whole one Send per push, so the bad request alone fails", async () => {
    const notify = await standInNotify(true);
    servers.push(notify.server);
    // Parley's display names cannot hold NUL; this directory's can, to make one request break notify's field rules.
    const { push, results } = notifier(notify.server, async (userId) => (userId === 8n ? "bad\u0000name" : `user ${userId}`));
    for (let i = 0; i < 10; i++) push.newMessage({ recipientId: 400n + BigInt(i), message: { ...message(9_200n + BigInt(i)), senderId: i === 4 ? 8n : 7n } });
    await until(() => results.length === 10, "every hand-off to end");
    await push.close();
    assert.equal(results.filter((r) => r === "sent").length, 9);
    assert.deepEqual(
      results.filter((r) => r !== "sent"),
      ["failed"],
    );
    assert.ok(notify.calls.sendBatch >= 1 && notify.calls.send >= 10, `${notify.calls.sendBatch} batches, ${notify.calls.send} sends`);
  });

  it("asks a notify older than SendBatch with one Send per push", async () => {
    const notify = await standInNotify(false);
    servers.push(notify.server);
    const { push, results } = notifier(notify.server);
    for (let i = 0; i < 10; i++) push.newMessage({ recipientId: 200n + BigInt(i), message: message(9_100n + BigInt(i)) });
    await until(() => results.length === 10, "every hand-off to end");
    await push.close();
    assert.deepEqual(results, Array(10).fill("sent"));
    assert.equal(notify.calls.send, 10);
  });
});
