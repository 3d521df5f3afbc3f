import assert from "node:assert/strict";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { PacedBatcher, type PacedBatch } from "../src/paced-batcher.js";

/** A batcher whose flushed batches are recorded, with each item's batch kept to answer it later. */
function recorded(maxUnanswered: number, holdMs: number, lingerMs = 0) {
  const flushed: number[][] = [];
  let onFlush = () => {};
  const batcher = new PacedBatcher<number>(
    (items) => {
      flushed.push(items);
      onFlush();
    },
    maxUnanswered,
    holdMs,
    lingerMs,
  );
  const batches = new Map<number, PacedBatch>();
  return {
    flushed,
    add: (item: number) => batches.set(item, batcher.add(item)),
    answer: (item: number) => batcher.answered(batches.get(item)!),
    nextFlush: () => new Promise<void>((resolve) => (onFlush = resolve)),
    batcher,
  };
}

describe("PacedBatcher", () => {
  it("sends a turn's items together at the end of the turn", async () => {
    const b = recorded(1, 10_000);
    b.add(1);
    b.add(2);
    assert.deepEqual(b.flushed, [], "nothing leaves within the turn");
    await nextTurn();
    assert.deepEqual(b.flushed, [[1, 2]]);
  });

  it("holds what arrives while the batches allowed out are unanswered, and sends it when one is answered", async () => {
    const b = recorded(1, 60_000);
    b.add(1);
    await nextTurn();
    b.add(2);
    b.add(3);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(b.flushed, [[1]], "held: batch [1] is out without its answer");
    b.answer(1);
    await nextTurn();
    assert.deepEqual(b.flushed, [[1], [2, 3]]);
  });

  it("counts a batch out until every item in it is answered", async () => {
    const b = recorded(1, 60_000);
    b.add(1);
    b.add(2);
    await nextTurn();
    b.add(3);
    b.answer(1);
    await nextTurn();
    assert.deepEqual(b.flushed, [[1, 2]], "2 is still unanswered");
    b.answer(2);
    await nextTurn();
    assert.deepEqual(b.flushed, [[1, 2], [3]]);
  });

  it("sends what is held once the oldest has waited holdMs, however many batches are out", async () => {
    const b = recorded(1, 20);
    b.add(1);
    await nextTurn();
    const started = performance.now();
    b.add(2);
    await b.nextFlush();
    assert.ok(performance.now() - started >= 19, "not before the hold is over");
    assert.deepEqual(b.flushed, [[1], [2]]);
  });

  it("allows maxUnanswered batches out at once", async () => {
    const b = recorded(2, 60_000);
    b.add(1);
    await nextTurn();
    b.add(2);
    await nextTurn();
    b.add(3);
    await nextTurn();
    assert.deepEqual(b.flushed, [[1], [2]]);
    b.answer(2);
    await nextTurn();
    assert.deepEqual(b.flushed, [[1], [2], [3]]);
  });

  it("does not count a batch whose items were all answered (timed out) before it left", async () => {
    const b = recorded(1, 60_000);
    b.add(1);
    b.answer(1); // timed out while held
    await nextTurn();
    b.add(2);
    await nextTurn();
    assert.deepEqual(b.flushed, [[1], [2]], "batch [1] left with nothing to wait for, so [2] is not held");
  });

  it("forgets what is held and out on reset", async () => {
    const b = recorded(1, 60_000);
    b.add(1);
    await nextTurn();
    b.add(2);
    b.batcher.reset();
    await nextTurn();
    b.add(3);
    await nextTurn();
    assert.deepEqual(b.flushed, [[1], [3]], "2 was dropped; 3 is not held behind the forgotten batch");
  });

  it("with a linger, holds a batch that opens within a linger of the last one leaving, for others to join it", async () => {
    // Long enough that two turns fit in it on a busy machine.
    const b = recorded(1, 5, 500);
    b.add(0);
    await nextTurn();
    assert.deepEqual(b.flushed, [[0]], "nothing left before it: the first item leaves at once");
    b.answer(0);
    const started = performance.now();
    b.add(1);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(b.flushed, [[0]], "nothing is out, yet the item lingers");
    b.add(2);
    await b.nextFlush();
    assert.ok(performance.now() - started >= 499, "not before the linger is over");
    assert.deepEqual(b.flushed, [[0], [1, 2]]);
  });

  it("with a linger, sends the first item after a pause longer than the linger at once", async () => {
    const b = recorded(1, 5, 50);
    b.add(1);
    await nextTurn();
    b.answer(1);
    await sleep(60); // a pause: more than a linger since the batch left
    b.add(2);
    await nextTurn();
    assert.deepEqual(b.flushed, [[1], [2]], "a quiet link has nothing to wait for");
  });

  it("with a linger, sends a paced batch at an answer once the linger is over, not at the hold", async () => {
    const b = recorded(1, 60_000, 300);
    b.add(1);
    await b.nextFlush();
    const started = performance.now();
    b.add(2);
    await nextTurn();
    b.answer(1);
    await b.nextFlush();
    assert.ok(performance.now() - started >= 299, "the answer came first, the linger still holds");
    assert.deepEqual(b.flushed, [[1], [2]]);
  });

  it("refuses settings that could never send", () => {
    assert.throws(() => new PacedBatcher(() => {}, 0, 1), RangeError);
    assert.throws(() => new PacedBatcher(() => {}, 1, -1), RangeError);
    assert.throws(() => new PacedBatcher(() => {}, 1, 1, -1), RangeError);
  });
});
