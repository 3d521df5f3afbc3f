import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, createRouterTransport } from "@connectrpc/connect";
import { ChatService, GetCursorRequestSchema, ReplySchema, StreamResponseSchema, type StreamRequest } from "@parley/contracts/parley/chat/v1/chat";
import { createLogger } from "@parley/runtime";
import { ChatLink, SILENT_AFTER_MS, UNPACED } from "../src/adapters/chat-link.js";

const logger = createLogger("test", "silent");
const SLOW_MS = SILENT_AFTER_MS + 600;

/**
 * A chat that answers the stream's hello at once and every command only
 * after SLOW_MS: a store stuck past the silence bound, as a checkpoint or a
 * burst can make it.
 */
function slowChat(router: ConnectRouter): void {
  router.service(ChatService, {
    async *stream(requests: AsyncIterable<StreamRequest>) {
      for await (const request of requests) {
        if (request.hello) {
          yield create(StreamResponseSchema);
          continue;
        }
        await delay(SLOW_MS);
        yield create(StreamResponseSchema, {
          replies: request.commands.map((c) => create(ReplySchema, { correlationId: c.correlationId, result: { case: "getCursor", value: { seq: 7n } } })),
        });
      }
    },
  });
}

const getCursor = { case: "getCursor" as const, value: create(GetCursorRequestSchema) };

/** A chat that answers the commands of user 1 at once and never those of anyone else. */
function choosyChat(router: ConnectRouter): void {
  router.service(ChatService, {
    async *stream(requests: AsyncIterable<StreamRequest>) {
      for await (const request of requests) {
        const answered = request.commands.filter((c) => c.userId === 1n);
        yield create(StreamResponseSchema, {
          replies: answered.map((c) => create(ReplySchema, { correlationId: c.correlationId, result: { case: "getCursor", value: { seq: 7n } } })),
        });
      }
    },
  });
}

describe("ChatLink: a command chat does not answer", () => {
  const TIMEOUT_MS = 150;
  const unanswered = (err: unknown) => {
    assert.equal(ConnectError.from(err).code, Code.Unavailable);
    assert.match(ConnectError.from(err).rawMessage, /did not answer in time/);
    return true;
  };

  it("fails each unanswered command as UNAVAILABLE once its own timeout has passed, never sooner, and answers the rest", async () => {
    const link = new ChatLink(createRouterTransport(choosyChat), { gatewayId: "g", deliverAddress: "" }, TIMEOUT_MS, logger, UNPACED, false);
    try {
      const timed = async (userId: bigint) => {
        const sentAt = performance.now();
        await assert.rejects(link.call(userId, 1n, getCursor), unanswered);
        return performance.now() - sentAt;
      };
      const first = timed(2n);
      assert.equal((await link.call(1n, 1n, getCursor)).case, "getCursor", "an answered command is not failed by the deadline");
      // Sent while the first waits: one timer serves both, re-armed for the second's own deadline.
      const second = timed(3n);
      assert.ok((await first) >= TIMEOUT_MS, "the first failed no sooner than its timeout");
      assert.ok((await second) >= TIMEOUT_MS, "the second failed no sooner than its own timeout");
      // After the deadline timer ran out of commands, a new one is timed again.
      assert.ok((await timed(4n)) >= TIMEOUT_MS);
      assert.equal((await link.call(1n, 1n, getCursor)).case, "getCursor", "the stream is still up");
    } finally {
      link.close();
    }
  });
});

describe("ChatLink: a chat that stays silent past the bound", () => {
  it("breaks the stream of a chat in another process, failing its commands as UNAVAILABLE", async () => {
    const link = new ChatLink(createRouterTransport(slowChat), { gatewayId: "g", deliverAddress: "" }, 30_000, logger, UNPACED, true);
    try {
      await assert.rejects(link.call(1n, 1n, getCursor), (err: unknown) => {
        assert.equal(ConnectError.from(err).code, Code.Unavailable);
        assert.match(ConnectError.from(err).rawMessage, /stopped answering/);
        return true;
      });
    } finally {
      link.close();
    }
  });

  it("waits for a chat in this process (npm start): a slow store is not a stopped process", async () => {
    const link = new ChatLink(createRouterTransport(slowChat), { gatewayId: "g", deliverAddress: "" }, 30_000, logger, UNPACED, false);
    try {
      const result = await link.call(1n, 1n, getCursor);
      assert.equal(result.case, "getCursor");
    } finally {
      link.close();
    }
  });
});

describe("ChatLink: pacing", () => {
  it("with a linger, sends commands of different turns within it to chat as one batch while commands keep coming", async () => {
    const batches: number[] = [];
    const countingChat = (router: ConnectRouter) =>
      router.service(ChatService, {
        async *stream(requests: AsyncIterable<StreamRequest>) {
          for await (const request of requests) {
            if (request.commands.length > 0) batches.push(request.commands.length);
            yield create(StreamResponseSchema, {
              replies: request.commands.map((c) => create(ReplySchema, { correlationId: c.correlationId, result: { case: "getCursor", value: { seq: 7n } } })),
            });
          }
        },
      });
    // Long enough that two turns fit in it on a busy machine.
    const pacing = { ...UNPACED, lingerMs: 500 };
    const link = new ChatLink(createRouterTransport(countingChat), { gatewayId: "g", deliverAddress: "" }, 10_000, logger, pacing, false);
    try {
      // The first command after a pause leaves at once; the ones right behind it linger together.
      assert.equal((await link.call(3n, 1n, getCursor)).case, "getCursor");
      const first = link.call(1n, 1n, getCursor);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      const second = link.call(2n, 1n, getCursor);
      assert.equal((await first).case, "getCursor");
      assert.equal((await second).case, "getCursor");
      assert.deepEqual(batches, [1, 2], "the next two commands left together, after the linger");
    } finally {
      link.close();
    }
  });
});
