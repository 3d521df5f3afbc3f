import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@parley/contracts/grpc/health/v1/health";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { until } from "@parley/testkit";
import { ConfigError, commonEnv, loadEnv } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { ReadinessChecks, readinessSettings } from "../src/readiness.js";
import { startServer, type RunningServer } from "../src/server.js";

const logger = createLogger("test", "silent");

async function probe(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: (await res.text()).trim() };
}

describe("readiness > the probes and the health service", () => {
  let server: RunningServer;
  let readiness: ReadinessChecks;
  /** What the fake database check does next. */
  let database: "up" | "down" | "hang" = "up";
  let databaseCalls = 0;
  /** Rounds run so far: the other check answers once in each. */
  let rounds = 0;
  let releaseHung: () => void = () => {};
  let health: ReturnType<typeof createClient<typeof Health>>;

  const wholeServer = async () => (await health.check({ service: "" })).status;
  /** /readyz's answer and the health service's "" status, once both say `status`. */
  const agreeOn = (status: number, text: string) =>
    until(async () => {
      const readyz = await probe(`${server.url}/readyz`);
      return readyz.status === status && readyz.text === text && (await wholeServer()) === (status === 200 ? Status.SERVING : Status.NOT_SERVING);
    }, `/readyz ${status} "${text}" and a matching health status`);

  before(async () => {
    readiness = new ReadinessChecks({ intervalMs: 30, timeoutMs: 30 }, logger);
    readiness.register("database", () => {
      databaseCalls++;
      if (database === "down") throw new Error("connection refused");
      if (database === "hang") return new Promise<void>((resolve) => (releaseHung = resolve));
      return undefined;
    });
    readiness.register("etcd", async () => {
      rounds++;
    });
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      serviceNames: [IdGenService.typeName],
      logger,
      metrics: new Metrics(),
      readiness,
      routes: (router) => router.service(IdGenService, { nextIds: () => ({ ids: [] }), decodeId: () => ({}) }),
    });
    readiness.start();
    health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
  });
  after(async () => {
    readiness.close();
    releaseHung();
    await server.close(100);
  });

  it("answers /livez 200 while the process runs", async () => {
    assert.deepEqual(await probe(`${server.url}/livez`), { status: 200, text: "ok" });
  });

  it("answers /readyz 200 and SERVING while every check passes", async () => {
    await agreeOn(200, "ok");
    assert.deepEqual(readiness.failing, []);
  });

  it("answers /readyz 503 naming the failing check, and NOT_SERVING for the server, while a dependency is down", async () => {
    database = "down";
    await agreeOn(503, "not ready: database unreachable");
    assert.deepEqual(await probe(`${server.url}/livez`), { status: 200, text: "ok" }, "an outage elsewhere is no reason to restart");
    assert.equal((await probe(`${server.url}/healthz`)).status, 200, "the old probe still says only whether it drains");
    assert.equal((await health.check({ service: IdGenService.typeName })).status, Status.SERVING, "the services' own statuses are left alone");
  });

  it("turns ready again once the dependency answers", async () => {
    database = "up";
    await agreeOn(200, "ok");
  });

  it("counts a check that does not answer within the timeout as failed, and never runs it twice at once", async () => {
    database = "hang";
    await agreeOn(503, "not ready: database unreachable");
    const calls = databaseCalls;
    const seen = rounds;
    await until(() => rounds >= seen + 3, "three more rounds while it hangs");
    assert.equal(databaseCalls, calls, "the hung check was not started again");
    assert.deepEqual(readiness.failing, ["database"]);
    database = "up";
    releaseHung();
    await agreeOn(200, "ok");
  });

  it("answers /readyz 503 draining and NOT_SERVING once the server drains, whatever the checks say", async () => {
    server.health.drain();
    await agreeOn(503, "not ready: draining");
    assert.equal((await probe(`${server.url}/healthz`)).status, 503);
    assert.equal((await probe(`${server.url}/livez`)).status, 200);
    const seen = rounds;
    await until(() => rounds >= seen + 2, "two more passing rounds");
    assert.equal(await wholeServer(), Status.NOT_SERVING, "a passing round does not undo the drain");
  });
});

describe("readiness > settings", () => {
  it("defaults to a check every 5 s with a 2 s timeout", () => {
    assert.deepEqual(readinessSettings(loadEnv(commonEnv, {})), { intervalMs: 5_000, timeoutMs: 2_000 });
  });

  it("refuses a timeout longer than the interval, and values out of range, naming the variables", () => {
    assert.throws(
      () => readinessSettings(loadEnv(commonEnv, { READINESS_INTERVAL_MS: "1000", READINESS_TIMEOUT_MS: "2000" })),
      (err: unknown) => err instanceof ConfigError && /READINESS_TIMEOUT_MS: must be at most READINESS_INTERVAL_MS/.test(err.message),
    );
    assert.throws(
      () => loadEnv(commonEnv, { READINESS_INTERVAL_MS: "50" }),
      (err: unknown) => err instanceof ConfigError && /READINESS_INTERVAL_MS: must be a whole number from 100 to 600000/.test(err.message),
    );
  });
});
