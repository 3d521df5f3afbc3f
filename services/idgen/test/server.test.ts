import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { createLogger, errorInterceptor } from "@parley/runtime";
import { FakeClock } from "@parley/testkit";
import { mapIdgenError } from "../src/errors.js";
import { createIdgenService } from "../src/server.js";
import { encodeId, SnowflakeGenerator, type SnowflakeOptions } from "../src/domain/snowflake.js";

function clientFor(clock: FakeClock, workerId: SnowflakeOptions["workerId"] = 3) {
  const generator = new SnowflakeGenerator({ workerId, clock, maxBackwardMs: 200, sleep: clock.sleep });
  const service = createIdgenService({ generator });
  const logger = createLogger("test", "silent");
  const transport = createRouterTransport(service.routes, {
    router: { interceptors: [errorInterceptor(mapIdgenError, logger)] },
  });
  return createClient(IdGenService, transport);
}

async function codeAndMessage(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await call;
  } catch (err) {
    const { code, rawMessage } = ConnectError.from(err);
    return { code, message: rawMessage };
  }
  assert.fail("the call succeeded");
}

describe("idgen service", () => {
  describe("next ids", () => {
    it("returns count strictly increasing ids", async () => {
      const client = clientFor(new FakeClock());
      const { ids } = await client.nextIds({ count: 1000 });
      assert.equal(ids.length, 1000);
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!);
    });

    it("refuses a missing count (0) with INVALID_ARGUMENT naming the limit", async () => {
      const { code, message } = await codeAndMessage(clientFor(new FakeClock()).nextIds({ count: 0 }));
      assert.equal(code, Code.InvalidArgument);
      assert.match(message, /4096/);
    });

    it("refuses a count of 4097 with INVALID_ARGUMENT naming the limit", async () => {
      const { code, message } = await codeAndMessage(clientFor(new FakeClock()).nextIds({ count: 4097 }));
      assert.equal(code, Code.InvalidArgument);
      assert.match(message, /4096/);
    });

    it("answers UNAVAILABLE when the clock jumped far back", async () => {
      const clock = new FakeClock();
      const client = clientFor(clock);
      await client.nextIds({ count: 1 });
      clock.ms -= 60_000;
      const { code, message } = await codeAndMessage(client.nextIds({ count: 1 }));
      assert.equal(code, Code.Unavailable);
      assert.match(message, /moved back by 60000 ms; retry/);
    });
  });

  it("answers UNAVAILABLE, saying why, while the leased worker id is fenced", async () => {
    const { code, message } = await codeAndMessage(clientFor(new FakeClock(), { current: () => undefined }).nextIds({ count: 1 }));
    assert.equal(code, Code.Unavailable);
    assert.match(message, /holds no valid worker id right now .*; retry, or call another instance/);
  });

  describe("decode id", () => {
    it("splits an id into time, worker and sequence", async () => {
      const timeMs = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
      const res = await clientFor(new FakeClock()).decodeId({ id: encodeId({ timeMs, workerId: 1000, sequence: 77 }) });
      assert.equal(timestampMs(res.time!), timeMs);
      assert.equal(res.workerId, 1000);
      assert.equal(res.sequence, 77);
    });

    it("refuses a value with the top bit set with INVALID_ARGUMENT", async () => {
      const { code } = await codeAndMessage(clientFor(new FakeClock()).decodeId({ id: 1n << 63n }));
      assert.equal(code, Code.InvalidArgument);
    });
  });
});
