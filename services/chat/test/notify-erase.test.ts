import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { createLogger, grpcTransport, Metrics, startServer, type RunningServer } from "@parley/runtime";
import { until } from "@parley/testkit";
import { NotifyPushEraser, type EraseResult } from "../src/adapters/notify-erase.js";

const silent = createLogger("test", "silent");

/** A notify stand-in over real HTTP/2: answers each Erase with the next of `failures` (then success) and records the ids. */
async function standInNotify(failures: Code[] = [], { hold = false } = {}) {
  const seen: string[][] = [];
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const routes = (router: ConnectRouter) =>
    router.service(NotifyService, {
      async erase({ eventIds }) {
        seen.push(eventIds);
        if (hold) await held;
        const failure = failures.shift();
        if (failure !== undefined) throw new ConnectError("stand-in failure", failure);
        return { erased: eventIds.length };
      },
    });
  const server = await startServer({ host: "127.0.0.1", port: 0, routes, serviceNames: [NotifyService.typeName], logger: silent, metrics: new Metrics() });
  return { server, seen, release };
}

function eraser(server: RunningServer, more: { capacity?: number; concurrency?: number } = {}) {
  const results: EraseResult[] = [];
  const erase = new NotifyPushEraser({
    transport: grpcTransport(server.url),
    logger: silent,
    onResult: (result) => results.push(result),
    retry: { attempts: 3, initialMs: 10, maxMs: 20 },
    ...more,
  });
  return { erase, results };
}

describe("notify push eraser", () => {
  const servers: RunningServer[] = [];
  after(async () => {
    for (const server of servers) await server.close(0);
  });

  it("asks notify to erase the push event id of each recipient of the deleted message, in one call", async () => {
    const notify = await standInNotify();
    servers.push(notify.server);
    const { erase, results } = eraser(notify.server);
    erase.messageDeleted(501n, [8n, 9n, 8n]);
    await until(() => results.length === 1, "the erase");
    assert.deepEqual(notify.seen, [["message:501:8", "message:501:9"]]);
    assert.deepEqual(results, ["erased"]);
    await erase.close();
  });

  it("retries notify being down with backoff, and gives up (counted as failed) after its attempts or on a refusal", async () => {
    const flaky = await standInNotify([Code.Unavailable, Code.DeadlineExceeded]);
    const down = await standInNotify([Code.Unavailable, Code.Unavailable, Code.Unavailable]);
    const refusing = await standInNotify([Code.InvalidArgument]);
    servers.push(flaky.server, down.server, refusing.server);
    const outcomes: EraseResult[][] = [];
    for (const notify of [flaky, down, refusing]) {
      const { erase, results } = eraser(notify.server);
      erase.messageDeleted(7n, [8n]);
      await until(() => results.length === 1, "the erase to end");
      outcomes.push(results);
      await erase.close();
    }
    assert.deepEqual(outcomes, [["erased"], ["failed"], ["failed"]]);
    assert.deepEqual([flaky.seen.length, down.seen.length, refusing.seen.length], [3, 3, 1]);
  });

  it("never blocks the deletion: with the queue full it drops the erase and counts it, and closing abandons what waits", async () => {
    const notify = await standInNotify([], { hold: true });
    servers.push(notify.server);
    const { erase, results } = eraser(notify.server, { capacity: 1, concurrency: 1 });
    erase.messageDeleted(1n, [8n]); // runs, held by notify
    await until(() => notify.seen.length === 1, "the first erase in flight");
    erase.messageDeleted(2n, [8n]); // waits
    erase.messageDeleted(2n, [9n]); // the same message: replaces the waiting one
    erase.messageDeleted(3n, [8n]); // no room
    assert.deepEqual(results, ["dropped"]);
    notify.release();
    await until(() => results.length === 3, "the erases to end");
    assert.deepEqual(notify.seen, [["message:1:8"], ["message:2:9"]]);
    await erase.close();
    erase.messageDeleted(4n, [8n]);
    assert.equal(notify.seen.length, 2, "nothing is sent once closed");
  });
});
