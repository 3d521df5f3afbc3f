import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { Health } from "@parley/contracts/grpc/health/v1/health";
import { createLogger, grpcTransport, Metrics, startServer, type RunningServer } from "@parley/runtime";
import { MemoryRegistry } from "../src/adapters/memory-registry.js";
import { validateInstance } from "../src/instance.js";
import type { InstanceWatch, Registration } from "../src/ports.js";
import { registryTransport } from "../src/registry-transport.js";

const silent = createLogger("test", "silent");

describe("registry transport", () => {
  const servers: RunningServer[] = [];
  let registry: MemoryRegistry;
  let watch: InstanceWatch;

  /** A real gRPC server whose health service names it, so a call shows which instance answered. */
  const server = async (name: string) => {
    const s = await startServer({ host: "127.0.0.1", port: 0, routes: () => {}, serviceNames: [name], logger: silent, metrics: new Metrics() });
    servers.push(s);
    return s;
  };
  const register = (service: string, s: RunningServer, instanceId: string): Promise<Registration> =>
    registry.register(validateInstance({ service, instanceId, address: new URL(s.url).host }));
  const whoAnswers = async (count: number, service = "thing") => {
    const client = createClient(
      Health,
      registryTransport(
        service,
        () => watch.current(),
        (url) => grpcTransport(url),
      ),
    );
    const names: string[] = [];
    for (let i = 0; i < count; i++)
      names.push(
        Object.keys((await client.list({})).statuses)
          .filter((n) => n !== "")
          .join(),
      );
    return names;
  };

  before(async () => {
    registry = new MemoryRegistry();
    watch = await registry.watch("");
  });
  after(async () => {
    await watch.close();
    await registry.close();
    await Promise.all(servers.map((s) => s.close(0)));
  });

  it("spreads calls over the live instances of the service, and follows registrations, draining and removals", async () => {
    const [a, b, other] = [await server("inst-a"), await server("inst-b"), await server("inst-other")];
    const ra = await register("thing", a, "a");
    const rb = await register("thing", b, "b");
    await register("other", other, "o");
    assert.deepEqual((await whoAnswers(4)).sort(), ["inst-a", "inst-a", "inst-b", "inst-b"]);
    await rb.update({ draining: true });
    assert.deepEqual(await whoAnswers(3), ["inst-a", "inst-a", "inst-a"]);
    await ra.close();
    await assert.rejects(whoAnswers(1), (err: unknown) => {
      const e = ConnectError.from(err);
      return e.code === Code.Unavailable && /no live thing instance/.test(e.rawMessage);
    });
    const c = await server("inst-c");
    await register("thing", c, "c");
    assert.deepEqual(await whoAnswers(2), ["inst-c", "inst-c"]);
  });

  it("makes a call refused by a dead but still registered instance again on another, and passes the dead one over", async () => {
    const [live, dead] = [await server("inst-live"), await server("inst-dead")];
    await register("pair", live, "live");
    await register("pair", dead, "dead");
    await dead.close(0); // its port now refuses connections, and its registration stays, as after a SIGKILL
    const answers = await whoAnswers(6, "pair");
    assert.deepEqual(answers, Array(6).fill("inst-live"), "every call answered, by the live instance");
  });

  it("fails a refused call when no other instance is registered", async () => {
    const gone = await server("inst-gone");
    const port = new URL(gone.url).port;
    await gone.close(0);
    const client = createClient(
      Health,
      registryTransport(
        "lonely",
        () => [validateInstance({ service: "lonely", instanceId: "x", address: `127.0.0.1:${port}` })],
        (url) => grpcTransport(url),
      ),
    );
    await assert.rejects(client.list({}), (err: unknown) => ConnectError.from(err).code === Code.Unavailable);
  });

  it("passes over an instance that let a call run past its deadline (a stopped process: connections accepted, never answered)", async () => {
    const live = await server("inst-awake");
    const silent = createServer(() => {}); // accepts and never speaks, as the kernel does for a SIGSTOPped process
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const silentAddress = `127.0.0.1:${(silent.address() as { port: number }).port}`;
      await register("sleepy", live, "awake");
      await registry.register(validateInstance({ service: "sleepy", instanceId: "asleep", address: silentAddress }));
      const client = createClient(
        Health,
        registryTransport(
          "sleepy",
          () => watch.current(),
          (url) => grpcTransport(url),
        ),
      );
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++) {
        try {
          outcomes.push(
            Object.keys((await client.list({}, { timeoutMs: 300 })).statuses)
              .filter((n) => n !== "")
              .join(),
          );
        } catch (err) {
          outcomes.push(Code[ConnectError.from(err).code]!);
        }
      }
      assert.equal(outcomes.filter((o) => o === "DeadlineExceeded").length, 1, `one call lost to the silent instance, then none: ${outcomes}`);
      assert.equal(outcomes.filter((o) => o === "inst-awake").length, 3);
    } finally {
      silent.close();
    }
  });
});
