import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { startServer, type RunningServer } from "../src/server.js";
import { logContext, withRequestId } from "../src/tracing.js";
import { grpcTransport } from "../src/transport.js";

describe("request ids across a unary call (real HTTP/2)", () => {
  let server: RunningServer;
  /** What log lines inside the handler would carry, per call. */
  const seen: ReturnType<typeof logContext>[] = [];
  before(async () => {
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      serviceNames: [IdGenService.typeName],
      logger: createLogger("test", "silent"), // also makes the in-process context
      metrics: new Metrics(),
      routes: (router) =>
        router.service(IdGenService, {
          nextIds: async () => {
            await Promise.resolve(); // across an await, as real handlers are
            seen.push(logContext());
            return { ids: [] };
          },
        }),
    });
  });
  after(() => server.close(0));

  it("carries the caller's request id to the server, where the handler's log lines get it", async () => {
    const client = createClient(IdGenService, grpcTransport(server.url));
    await withRequestId("req-42", () => client.nextIds({ count: 1 }));
    assert.equal(seen.at(-1)?.request_id, "req-42");
  });

  it("sends none outside a request, and the server makes none up for an internal call", async () => {
    await createClient(IdGenService, grpcTransport(server.url)).nextIds({ count: 1 });
    assert.deepEqual(seen.at(-1), {});
  });

  it("replaces a malformed request id from a caller with one of its own", async () => {
    const plain = createClient(IdGenService, createGrpcTransport({ baseUrl: server.url }));
    await plain.nextIds({ count: 1 }, { headers: { "x-request-id": "has spaces\tand tabs" } });
    assert.match(seen.at(-1)?.request_id ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-/);
    await plain.nextIds({ count: 1 }, { headers: { "x-request-id": "x".repeat(129) } });
    assert.match(seen.at(-1)?.request_id ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-/, "too long");
  });
});
