import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@parley/contracts/grpc/health/v1/health";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { until } from "@parley/testkit";
import { HealthStatus } from "../src/health.js";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { errorInterceptor } from "../src/errors.js";
import { startServer, type RunningServer } from "../src/server.js";

class Boom extends Error {}

/** Counts the watchers subscribed to changes, so a test can see a watch's handler end. */
class WatchedHealth extends HealthStatus {
  watchers = 0;
  override onChange(listener: Parameters<HealthStatus["onChange"]>[0]): () => void {
    this.watchers++;
    const off = super.onChange(listener);
    return () => {
      this.watchers--;
      off();
    };
  }
}

describe("the service server", () => {
  let server: RunningServer;
  let release: () => void = () => {};
  /** Resolves once the in-flight call (count 3) is inside its handler. */
  let arrived: () => void = () => {};
  before(async () => {
    const logger = createLogger("test", "silent");
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      serviceNames: [IdGenService.typeName],
      logger,
      metrics: new Metrics(),
      interceptors: [errorInterceptor((err) => (err instanceof Boom ? new ConnectError("mapped boom", Code.FailedPrecondition) : undefined), logger)],
      routes: (router) =>
        router.service(IdGenService, {
          async nextIds(req) {
            if (req.count === 1) throw new Boom();
            if (req.count === 2) throw new Error("secret internal detail");
            if (req.count === 3) {
              arrived();
              await new Promise<void>((resolve) => (release = resolve)); // an in-flight call
            }
            return { ids: [BigInt(req.count)] };
          },
        }),
    });
  });
  after(() => server.close(100));

  it("serves gRPC over h2c and Connect JSON over HTTP/1.1 on one port", async () => {
    const grpc = createClient(IdGenService, createGrpcTransport({ baseUrl: server.url }));
    assert.deepEqual((await grpc.nextIds({ count: 5 })).ids, [5n]);
    const json = createClient(IdGenService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    assert.deepEqual((await json.nextIds({ count: 6 })).ids, [6n]);
    const curl = await fetch(`${server.url}/parley.idgen.v1.IdGenService/NextIds`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"count":7}',
    });
    assert.deepEqual(await curl.json(), { ids: ["7"] });
  });

  it("maps domain errors to their status and hides unexpected ones as INTERNAL", async () => {
    const client = createClient(IdGenService, createGrpcTransport({ baseUrl: server.url }));
    await assert.rejects(client.nextIds({ count: 1 }), (err: unknown) => {
      const e = ConnectError.from(err);
      return e.code === Code.FailedPrecondition && e.rawMessage === "mapped boom";
    });
    await assert.rejects(client.nextIds({ count: 2 }), (err: unknown) => {
      const e = ConnectError.from(err);
      return e.code === Code.Internal && e.rawMessage === "internal error";
    });
  });

  it("answers health checks and lists every service", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    assert.equal((await health.check({ service: IdGenService.typeName })).status, Status.SERVING);
    assert.deepEqual(Object.keys((await health.list({})).statuses).sort(), ["", IdGenService.typeName]);
    await assert.rejects(health.check({ service: "nope" }), (err: unknown) => ConnectError.from(err).code === Code.NotFound);
  });

  it("streams health changes to a watcher", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const abort = new AbortController();
    const seen: Status[] = [];
    const stream = health.watch({ service: "custom" }, { signal: abort.signal });
    const iterator = stream[Symbol.asyncIterator]();
    seen.push((await iterator.next()).value!.status);
    server.health.set("custom", Status.SERVING);
    seen.push((await iterator.next()).value!.status);
    server.health.set("custom", Status.NOT_SERVING);
    seen.push((await iterator.next()).value!.status);
    abort.abort();
    assert.deepEqual(seen, [Status.SERVICE_UNKNOWN, Status.SERVING, Status.NOT_SERVING]);
  });

  it("ends a watch's handler when its caller goes away, however long it has waited", async () => {
    const health = new WatchedHealth();
    const own = await startServer({
      host: "127.0.0.1",
      port: 0,
      serviceNames: [],
      logger: createLogger("test", "silent"),
      metrics: new Metrics(),
      health,
      routes: () => {},
    });
    try {
      const client = createClient(Health, createGrpcTransport({ baseUrl: own.url }));
      const abort = new AbortController();
      const iterator = client.watch({ service: "custom" }, { signal: abort.signal })[Symbol.asyncIterator]();
      assert.equal((await iterator.next()).value!.status, Status.SERVICE_UNKNOWN);
      assert.equal(health.watchers, 1);
      // The handler now waits for a change that never comes; only the caller's going away can end it.
      abort.abort();
      await assert.rejects(iterator.next(), (err: unknown) => ConnectError.from(err).code === Code.Canceled);
      await until(
        () => health.watchers === 0,
        () => `the watch's handler to end (${health.watchers} still subscribed)`,
      );
    } finally {
      await own.close(100);
    }
  });

  it("serves /healthz and /metrics with RPC counts", async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /parley_rpc_handled_total\{service="parley.idgen.v1.IdGenService",method="NextIds",code="ok"\} 3/);
    assert.match(metrics, /code="internal"\} 1/, "status codes in snake_case, as ok is");
    assert.equal((await fetch(`${server.url}/nowhere`)).status, 404);
  });

  it("on close, stops accepting, finishes the call in flight and reports draining", async () => {
    const client = createClient(IdGenService, createGrpcTransport({ baseUrl: server.url }));
    const inHandler = new Promise<void>((resolve) => (arrived = resolve));
    const inFlight = client.nextIds({ count: 3 });
    await inHandler;
    // close() marks the server draining and stops listening before it returns.
    const closed = server.close(5_000);
    assert.equal(server.health.get(""), Status.NOT_SERVING);
    await assert.rejects(
      new Promise((resolve, reject) => {
        const session = http2.connect(server.url);
        session.on("error", reject);
        session.on("connect", resolve);
      }),
      "new connections are refused",
    );
    release();
    assert.deepEqual((await inFlight).ids, [3n], "the in-flight call completes");
    await closed;
  });
});
