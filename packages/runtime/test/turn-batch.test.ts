import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TurnBatch } from "../src/turn-batch.js";

describe("TurnBatch", () => {
  it("answers the questions of one turn with one call, each with its own answer", async () => {
    const calls: number[][] = [];
    const batch = new TurnBatch(async (questions: number[]) => {
      calls.push(questions);
      return questions.map((q) => q * 10);
    }, 100);
    const answers = await Promise.all([batch.ask(1), batch.ask(2), batch.ask(3)]);
    assert.deepEqual(answers, [10, 20, 30]);
    assert.deepEqual(calls, [[1, 2, 3]]);
    assert.equal(await batch.ask(4), 40, "a later turn is a call of its own");
    assert.deepEqual(calls, [[1, 2, 3], [4]]);
  });

  it("splits a turn's questions into calls of at most max", async () => {
    const sizes: number[] = [];
    const batch = new TurnBatch(async (questions: number[]) => {
      sizes.push(questions.length);
      return questions;
    }, 2);
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map((q) => batch.ask(q))), [1, 2, 3, 4, 5]);
    assert.deepEqual(sizes, [2, 2, 1]);
  });

  it("fails every question of a failed call, and only those", async () => {
    const batch = new TurnBatch(async (questions: number[]) => {
      if (questions.includes(3)) throw new Error("down");
      return questions;
    }, 2);
    const settled = await Promise.allSettled([1, 2, 3, 4].map((q) => batch.ask(q)));
    assert.deepEqual(
      settled.map((s) => s.status),
      ["fulfilled", "fulfilled", "rejected", "rejected"],
    );
  });

  it("fails the questions when the call answers a different number of them", async () => {
    const batch = new TurnBatch(async (questions: number[]) => questions.slice(1), 10);
    await assert.rejects(Promise.all([batch.ask(1), batch.ask(2)]), /a batch of 2 questions got 1 answers/);
  });

  it("refuses a batch size below one", () => {
    assert.throws(() => new TurnBatch(async (q: number[]) => q, 0), RangeError);
  });
});

describe("TurnBatch with a cap on calls in flight", () => {
  it("holds the questions of later turns while maxInFlight calls are out, then asks them in one call", async () => {
    const calls: number[][] = [];
    const answered: (() => void)[] = [];
    const batch = new TurnBatch(
      (questions: number[]) => {
        calls.push(questions);
        return new Promise<number[]>((resolve) => answered.push(() => resolve(questions)));
      },
      100,
      1,
    );
    const first = batch.ask(1);
    await new Promise((resolve) => setImmediate(resolve));
    // Three more turns while the first call is out: none is a call of its own.
    const later: Promise<number>[] = [];
    for (const q of [2, 3, 4]) {
      later.push(batch.ask(q));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(calls, [[1]]);
    answered.shift()!();
    assert.equal(await first, 1);
    while (answered.length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [[1], [2, 3, 4]], "what waited went together once the call ended");
    answered.shift()!();
    assert.deepEqual(await Promise.all(later), [2, 3, 4]);
  });

  it("keeps going after a failed call, and still splits what waited into calls of at most max", async () => {
    const sizes: number[] = [];
    let fail = true;
    const batch = new TurnBatch(
      async (questions: number[]) => {
        sizes.push(questions.length);
        await new Promise((resolve) => setImmediate(resolve));
        if (fail) {
          fail = false;
          throw new Error("down");
        }
        return questions;
      },
      2,
      1,
    );
    const settled = await Promise.allSettled([1, 2, 3, 4, 5].map((q) => batch.ask(q)));
    assert.deepEqual(
      settled.map((s) => s.status),
      ["rejected", "rejected", "fulfilled", "fulfilled", "fulfilled"],
    );
    assert.deepEqual(sizes, [2, 2, 1]);
  });

  it("refuses a cap below one", () => {
    assert.throws(() => new TurnBatch(async (q: number[]) => q, 10, 0), RangeError);
  });
});
