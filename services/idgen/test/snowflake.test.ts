import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "@parley/testkit";
import { systemClock } from "../src/adapters/system-clock.js";
import { ClockMovedBackwards, InvalidCount, InvalidWorkerId, NotAnId, TimeOutOfRange, WorkerIdUnavailable } from "../src/errors.js";
import { decodeId, encodeId, MAX_BATCH, PARLEY_EPOCH_MS, SnowflakeGenerator } from "../src/domain/snowflake.js";

function generatorOn(clock: FakeClock, maxBackwardMs = 200, workerId = 7): SnowflakeGenerator {
  return new SnowflakeGenerator({ workerId, clock, maxBackwardMs, sleep: clock.sleep });
}

function assertStrictlyIncreasing(ids: readonly bigint[]): void {
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i - 1]! < ids[i]!, `id ${i} (${ids[i]}) is not above id ${i - 1} (${ids[i - 1]})`);
  }
}

describe("snowflake", () => {
  it("hands out 100,000 unique, strictly increasing ids on the real clock", async () => {
    const generator = new SnowflakeGenerator({ workerId: 1, clock: systemClock, maxBackwardMs: 200 });
    const ids: bigint[] = [];
    while (ids.length < 100_000) ids.push(...(await generator.next(1000)));
    assertStrictlyIncreasing(ids);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.every((id) => decodeId(id).workerId === 1));
  });

  it("keeps concurrent calls apart and in call order", async () => {
    // 3,000 ids per call on a frozen millisecond forces waits mid-call, where
    // unserialized calls would interleave.
    const clock = new FakeClock();
    const generator = generatorOn(clock);
    const batches = await Promise.all(Array.from({ length: 20 }, () => generator.next(3000)));
    for (const batch of batches) assert.equal(batch.length, 3000);
    const all = batches.flat();
    assertStrictlyIncreasing(all);
  });

  it("rolls the sequence into the next millisecond", async () => {
    const clock = new FakeClock();
    const generator = generatorOn(clock);
    const ids = await generator.next(MAX_BATCH);
    const [next] = await generator.next(1);
    assert.deepEqual(decodeId(ids[0]!), { timeMs: clock.ms - 1, workerId: 7, sequence: 0 });
    assert.deepEqual(decodeId(ids[4095]!), { timeMs: clock.ms - 1, workerId: 7, sequence: 4095 });
    assert.deepEqual(decodeId(next!), { timeMs: clock.ms, workerId: 7, sequence: 0 });
    assert.deepEqual(clock.slept, [1]);
  });

  it("waits out a step backwards within the bound and repeats no id", async () => {
    const clock = new FakeClock();
    const generator = generatorOn(clock, 200);
    const before = await generator.next(10);
    clock.ms -= 150;
    const after = await generator.next(10);
    assertStrictlyIncreasing([...before, ...after]);
    assert.equal(clock.totalSlept(), 150);
    assert.equal(decodeId(after[0]!).sequence, 10, "continues the millisecond it had reached");
  });

  it("refuses a step backwards beyond the bound with ClockMovedBackwards", async () => {
    const clock = new FakeClock();
    const generator = generatorOn(clock, 200);
    await generator.next(1);
    clock.ms -= 500;
    await assert.rejects(generator.next(1), (err) => err instanceof ClockMovedBackwards && err.behindMs === 500);
    assert.deepEqual(clock.slept, [], "does not wait when the step is already too far");
  });

  it("refuses when the clock is still behind after waiting the bound", async () => {
    const clock = new FakeClock();
    const generator = generatorOn(clock, 200);
    await generator.next(1);
    clock.ms -= 150;
    clock.stuck = true;
    await assert.rejects(generator.next(1), ClockMovedBackwards);
    assert.ok(clock.totalSlept() <= 200);
  });

  it("serves again once the clock catches up after a refusal", async () => {
    const clock = new FakeClock();
    const generator = generatorOn(clock, 0);
    const [first] = await generator.next(1);
    clock.ms -= 5;
    await assert.rejects(generator.next(1), ClockMovedBackwards);
    clock.ms += 6;
    const [second] = await generator.next(1);
    assert.ok(second! > first!);
  });

  it("refuses a clock before the Parley epoch", async () => {
    const clock = new FakeClock(PARLEY_EPOCH_MS - 1);
    await assert.rejects(generatorOn(clock).next(1), TimeOutOfRange);
  });

  it("refuses counts outside 1 to 4096", async () => {
    const generator = generatorOn(new FakeClock());
    for (const count of [0, -1, 4097, 1.5, Number.NaN]) {
      await assert.rejects(generator.next(count), InvalidCount, `count ${count}`);
    }
    assert.equal((await generator.next(4096)).length, 4096);
  });

  it("refuses worker ids outside 0 to 1023", () => {
    for (const workerId of [-1, 1024, 2.5]) {
      assert.throws(() => generatorOn(new FakeClock(), 200, workerId), InvalidWorkerId, `worker ${workerId}`);
    }
    assert.doesNotThrow(() => generatorOn(new FakeClock(), 200, 1023));
  });
});

describe("snowflake with a leased worker id", () => {
  /** A lease stand-in: the id it serves, or undefined while fenced; records when it was asked. */
  function leaseOn(clock: FakeClock, initial: number | undefined) {
    const lease = {
      id: initial,
      askedAt: [] as number[],
      current() {
        lease.askedAt.push(clock.ms);
        return lease.id;
      },
    };
    return lease;
  }

  it("issues with the leased id and refuses with WorkerIdUnavailable while fenced", async () => {
    const clock = new FakeClock();
    const lease = leaseOn(clock, 5);
    const generator = new SnowflakeGenerator({ workerId: lease, clock, maxBackwardMs: 200, sleep: clock.sleep });
    const [before] = await generator.next(1);
    assert.equal(decodeId(before!).workerId, 5);
    lease.id = undefined;
    await assert.rejects(generator.next(10), WorkerIdUnavailable);
    lease.id = 5;
    const [after] = await generator.next(1);
    assert.ok(after! > before!);
  });

  it("asks the lease again for every millisecond, so a fence stops a batch midway", async () => {
    const clock = new FakeClock();
    let asks = 0;
    const lease = { current: () => (++asks <= 2 ? 1 : undefined) };
    const generator = new SnowflakeGenerator({ workerId: lease, clock, maxBackwardMs: 200, sleep: clock.sleep });
    await generator.next(10);
    // 4,086 ids fit the current millisecond; the rest need the next one, and a fresh ask.
    await assert.rejects(generator.next(MAX_BATCH), WorkerIdUnavailable);
    assert.equal(asks, 3);
  });

  it("continues in a fresh millisecond after a re-claim to another id, keeping ids increasing", async () => {
    const clock = new FakeClock();
    const lease = leaseOn(clock, 9);
    const generator = new SnowflakeGenerator({ workerId: lease, clock, maxBackwardMs: 200, sleep: clock.sleep });
    const first = await generator.next(3);
    lease.id = 2; // a lower id, claimed again in the same millisecond
    const second = await generator.next(3);
    assertStrictlyIncreasing([...first, ...second]);
    assert.equal(decodeId(second[0]!).workerId, 2);
    assert.ok(decodeId(second[0]!).timeMs > decodeId(first[2]!).timeMs);
  });

  it("refuses an id from the lease outside 0 to 1023", async () => {
    const clock = new FakeClock();
    const generator = new SnowflakeGenerator({ workerId: leaseOn(clock, 1024), clock, maxBackwardMs: 200, sleep: clock.sleep });
    await assert.rejects(generator.next(1), InvalidWorkerId);
  });
});

describe("snowflake id layout", () => {
  it("puts time, worker and sequence in bits 22-62, 12-21 and 0-11", () => {
    const id = encodeId({ timeMs: PARLEY_EPOCH_MS + 0x1_2345_6789, workerId: 0x2ab, sequence: 0xcde });
    assert.equal(id, 0x48d1_59e2_6abc_den);
    assert.equal(encodeId({ timeMs: PARLEY_EPOCH_MS, workerId: 0, sequence: 0 }), 0n);
    assert.equal(encodeId({ timeMs: PARLEY_EPOCH_MS + 2 ** 41 - 1, workerId: 1023, sequence: 4095 }), 2n ** 63n - 1n);
  });

  it("decodes what it encodes", () => {
    const cases = [
      { timeMs: PARLEY_EPOCH_MS, workerId: 0, sequence: 0 },
      { timeMs: Date.UTC(2026, 4, 17, 12, 30, 5, 123), workerId: 513, sequence: 42 },
      { timeMs: PARLEY_EPOCH_MS + 2 ** 41 - 1, workerId: 1023, sequence: 4095 },
    ];
    for (const parts of cases) assert.deepEqual(decodeId(encodeId(parts)), parts);
  });

  it("refuses times outside the 41 bits after the epoch", () => {
    assert.throws(() => encodeId({ timeMs: PARLEY_EPOCH_MS - 1, workerId: 0, sequence: 0 }), TimeOutOfRange);
    assert.throws(() => encodeId({ timeMs: PARLEY_EPOCH_MS + 2 ** 41, workerId: 0, sequence: 0 }), TimeOutOfRange);
  });

  it("refuses to decode a value with the top bit set", () => {
    assert.throws(() => decodeId(1n << 63n), NotAnId);
    assert.throws(() => decodeId(-1n), NotAnId);
  });
});
