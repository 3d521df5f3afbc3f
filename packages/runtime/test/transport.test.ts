import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { startServer, type RunningServer } from "../src/server.js";
import { grpcTransport } from "../src/transport.js";

/** What a call's response said about its encoding. */
function encodingSeen(): { interceptor: Interceptor; encodings: (string | null)[] } {
  const encodings: (string | null)[] = [];
  const interceptor: Interceptor = (next) => async (req) => {
    const res = await next(req);
    encodings.push(res.header.get("grpc-encoding"));
    return res;
  };
  return { interceptor, encodings };
}

describe("grpcTransport: calls between Parley's services", () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      serviceNames: [IdGenService.typeName],
      logger: createLogger("test", "silent"),
      metrics: new Metrics(),
      // A reply of 2,000 ids, well above the 1 KiB over which a server compresses for a client that accepts it.
      routes: (router) => router.service(IdGenService, { nextIds: (req) => ({ ids: Array.from({ length: req.count }, (_, i) => BigInt(i + 1) << 40n) }) }),
    });
  });
  after(() => server.close(0));

  it("asks for no compression, so large replies come back as they are (Connect's default client accepts gzip and gets it)", async () => {
    const ours = encodingSeen();
    const { ids } = await createClient(IdGenService, grpcTransport(server.url, [ours.interceptor])).nextIds({ count: 2_000 });
    assert.equal(ids.length, 2_000);
    assert.ok(ours.encodings[0] === null || ours.encodings[0] === "identity", `reply encoded as ${ours.encodings[0]}`);

    // The same call with Connect's defaults is compressed: what the option saves.
    const defaults = encodingSeen();
    await createClient(IdGenService, createGrpcTransport({ baseUrl: server.url, interceptors: [defaults.interceptor] })).nextIds({ count: 2_000 });
    assert.equal(defaults.encodings[0], "gzip");
  });
});
