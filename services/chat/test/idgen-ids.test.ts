import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { NextIdsRequest, NextIdsResponse } from "@parley/contracts/parley/idgen/v1/idgen";
import { createIdgenService, idgenAccess, mapIdgenError, SnowflakeGenerator, systemClock } from "@parley/idgen";
import { createLogger, DependencyUnavailable, errorInterceptor, inProcessTransport } from "@parley/runtime";
import { IdgenIdSource, INSTANCE_TRIES, MAX_BLOCK, MIN_BLOCK } from "../src/adapters/idgen-ids.js";

const silent = createLogger("test", "silent");
const isOutage = (err: unknown) => err instanceof DependencyUnavailable && err.message === "the id service is unavailable; retry";
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * A real IdGenService served in process under its access policy, with a
 * spy in front that records every NextIds (its count and the ids it
 * returned) and can make idgen fail or hold calls; and a clock for the pool
 * that moves only when the test moves it.
 */
function setup(options: { maxAgeMs?: number } = {}) {
  const calls: { count: number; ids: bigint[] }[] = [];
  /** failing: every NextIds is refused; refuseNext: that many more are refused, then idgen answers. */
  const control = { failing: false, refuseNext: 0, stallNext: 0, gate: undefined as Promise<void> | undefined };
  const spy: Interceptor = (next) => async (req) => {
    if (req.stream || req.method.name !== "NextIds") return next(req);
    const call = { count: (req.message as NextIdsRequest).count, ids: [] as bigint[] };
    calls.push(call);
    if (control.gate) await control.gate;
    if (control.stallNext > 0 && control.stallNext--) await new Promise((resolve) => setTimeout(resolve, 1_000)); // past the caller's deadline
    if (control.failing) throw new ConnectError("idgen is down", Code.Unavailable);
    if (control.refuseNext > 0 && control.refuseNext--) throw new ConnectError("this idgen instance is down", Code.Unavailable);
    const res = await next(req);
    if (!res.stream) call.ids = [...(res.message as NextIdsResponse).ids];
    return res;
  };
  const idgen = createIdgenService({ generator: new SnowflakeGenerator({ workerId: 3, clock: systemClock, maxBackwardMs: 100 }) });
  const transport = inProcessTransport(idgen.routes, {
    policy: idgenAccess,
    caller: "chat",
    interceptors: [spy, errorInterceptor(mapIdgenError, silent)],
    logger: silent,
  });
  const clock = { ms: 0 };
  const source = new IdgenIdSource(transport, { now: () => clock.ms, ...options });
  return { source, calls, control, clock };
}

function assertIncreasing(ids: readonly bigint[]): void {
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `id ${i} (${ids[i]}) is not above the one before (${ids[i - 1]})`);
}

describe("idgen id source", () => {
  it("takes ids from memory after the first block", async () => {
    const { source, calls } = setup();
    const ids = [await source.next()];
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.count, MIN_BLOCK);
    // Half the block goes without a call; the refill starts only when fewer than half remain.
    for (let i = 1; i < MIN_BLOCK / 2; i++) ids.push(await source.next());
    assert.equal(calls.length, 1);
    assert.deepEqual(ids, calls[0]!.ids.slice(0, ids.length));
  });

  it("makes about one call per block under steady load, sized to half a second of it", async () => {
    const { source, calls, clock } = setup();
    const ids: bigint[] = [];
    // 10,000 sends at 1,000 a second: blocks of about 500 ids, a call about every 250 to 500 sends.
    for (let i = 0; i < 10_000; i++) {
      clock.ms += 1;
      ids.push(await source.next());
    }
    assert.ok(calls.length <= 10_000 / 250, `${calls.length} calls for 10,000 sends`);
    assert.ok(calls.length >= 10_000 / 1_500, `${calls.length} calls for 10,000 sends: blocks larger than needed`);
    const steady = calls.slice(-5).map((c) => c.count);
    for (const count of steady) assert.ok(count >= 400 && count <= 1_200, `block of ${count} at 1,000 ids a second`);
    assertIncreasing(ids);
  });

  it("serves a burst with blocks of at most 4,096 (the NextIds limit), one call per block", async () => {
    const { source, calls } = setup();
    const ids = await Promise.all(Array.from({ length: 10_000 }, () => source.next()));
    assert.ok(
      calls.every((c) => c.count >= MIN_BLOCK && c.count <= MAX_BLOCK),
      `counts ${calls.map((c) => c.count).join(", ")}`,
    );
    assert.ok(calls.length <= 4, `${calls.length} calls for a burst of 10,000`);
    assert.equal(new Set(ids).size, 10_000);
    assertIncreasing(ids);
  });

  it("never uses an id more than maxAgeMs after the call that minted it", async () => {
    const { source, calls, clock } = setup({ maxAgeMs: 1_000 });
    await source.next();
    clock.ms = 1_000; // exactly at the bound: still usable (though a fresh block is already asked for)
    const atBound = await source.next();
    assert.ok(calls[0]!.ids.includes(atBound));
    await turns(5);
    const fetched = calls.length;
    clock.ms = 2_001; // every id fetched so far is older than the bound
    const fresh = await source.next();
    assert.equal(calls.length, fetched + 1, "aged ids are discarded and a new block fetched");
    assert.ok(calls.at(-1)!.ids.includes(fresh));
    assert.ok(calls.slice(0, -1).every((c) => !c.ids.includes(fresh)));
  });

  it("takes the block from the next instance when the one asked refuses (a dead instance still in the registry)", async () => {
    const { source, calls, control } = setup();
    control.refuseNext = 1;
    assert.equal(typeof (await source.next()), "bigint");
    assert.equal(calls.length, 2, "the refused call, then the one that answered");
  });

  it("fails every waiting send with the dependency error when idgen fails, from one round of calls", async () => {
    const { source, calls, control } = setup();
    control.failing = true;
    const results = await Promise.allSettled(Array.from({ length: 500 }, () => source.next()));
    assert.equal(calls.length, INSTANCE_TRIES, "500 waiting sends share the one failed round");
    for (const result of results) {
      assert.equal(result.status, "rejected");
      assert.ok(isOutage(result.reason), String(result.reason));
    }
    await turns(20);
    assert.equal(calls.length, INSTANCE_TRIES, "no retries of its own: the next call waits for the next send");
    control.failing = false;
    assert.equal(typeof (await source.next()), "bigint");
    assert.equal(calls.length, INSTANCE_TRIES + 1);
  });

  it("sends that arrive while a failing call is in flight fail with it, not with calls of their own", async () => {
    const { source, calls, control } = setup();
    control.failing = true;
    let release!: () => void;
    control.gate = new Promise<void>((resolve) => (release = resolve));
    const first = source.next();
    const later = Array.from({ length: 100 }, () => source.next());
    release();
    await assert.rejects(first, isOutage);
    for (const send of later) await assert.rejects(send, isOutage);
    assert.equal(calls.length, INSTANCE_TRIES);
  });

  it("fetches nothing ahead while idgen fails, using up what it holds first", async () => {
    const { source, calls, control } = setup();
    await source.next(); // a block of 64, 63 left
    control.failing = true;
    for (let i = 0; i < 32; i++) await source.next(); // below half: a refill is tried, and fails
    await turns(5);
    assert.equal(calls.length, 1 + INSTANCE_TRIES);
    for (let i = 0; i < 31; i++) await source.next(); // the rest of the block, with no call per send
    assert.equal(calls.length, 1 + INSTANCE_TRIES);
    await assert.rejects(source.next(), isOutage);
    assert.equal(calls.length, 1 + 2 * INSTANCE_TRIES, "an empty pool asks again, one round");
  });

  it("takes the block from the next instance when the one asked does not answer within the age bound (a stopped instance)", async () => {
    const { source, calls, control } = setup({ maxAgeMs: 100 });
    control.stallNext = 1;
    assert.ok((await source.next()) > 0n);
    assert.equal(calls.length, 2);
  });

  it("abandons a call slower than the age bound, failing its waiting sends", { timeout: 5_000 }, async () => {
    const { source, control } = setup({ maxAgeMs: 50 });
    control.gate = new Promise<void>(() => {}); // idgen never answers
    await assert.rejects(source.next(), isOutage);
  });
});
