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
