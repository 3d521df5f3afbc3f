import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InFlight } from "../src/in-flight.js";

describe("InFlight", () => {
  it("hands out sequential ids and gives each value back once, in any order", () => {
    const waiting = new InFlight<string>(4);
    assert.deepEqual(
      ["a", "b", "c"].map((v) => waiting.add(v)),
      [1, 2, 3],
    );
    assert.equal(waiting.take(2), "b");
    assert.equal(waiting.take(2), undefined, "taken once");
    assert.equal(waiting.size, 2);
    assert.equal(waiting.oldest(), "a");
    assert.equal(waiting.take(1), "a");
    assert.equal(waiting.oldest(), "c");
    assert.equal(waiting.take(3), "c");
    assert.equal(waiting.size, 0);
    assert.equal(waiting.oldest(), undefined);
    assert.equal(waiting.add("d"), 4, "ids are never reused");
  });

  it("answers undefined for ids it never handed out, out of range or not integers", () => {
    const waiting = new InFlight<string>(4);
    waiting.add("a");
    for (const id of [0, -1, 2, 1.5, Number.NaN, 2 ** 53 + 2, 1 + 4]) assert.equal(waiting.take(id), undefined, String(id));
    assert.equal(waiting.size, 1);
  });

  it("keeps every value while one stays waiting and thousands come and go (the ring grows), oldest first", () => {
    const waiting = new InFlight<number>(4);
    const stuck = waiting.add(-1);
    for (let i = 0; i < 5_000; i++) {
      const id = waiting.add(i);
      if (i % 3 !== 0) assert.equal(waiting.take(id), i);
    }
    const left = [...waiting.entries()];
    assert.equal(left.length, 1 + Math.ceil(5_000 / 3));
    assert.deepEqual(left[0], [stuck, -1]);
    assert.deepEqual(
      left.slice(1).map(([, v]) => v),
      Array.from({ length: Math.ceil(5_000 / 3) }, (_, k) => 3 * k),
    );
    for (const [id, value] of left) assert.equal(waiting.take(id), value);
    assert.equal(waiting.size, 0);
  });

  it("takes all that wait, oldest first, and starts empty after", () => {
    const waiting = new InFlight<string>(2);
    const ids = ["a", "b", "c", "d", "e"].map((v) => waiting.add(v));
    waiting.take(ids[1]!);
    assert.deepEqual(waiting.takeAll(), ["a", "c", "d", "e"]);
    assert.equal(waiting.size, 0);
    assert.equal(waiting.take(ids[0]!), undefined);
    assert.deepEqual([...waiting.entries()], []);
    const next = waiting.add("f");
    assert.equal(next, 6);
    assert.equal(waiting.take(next), "f");
  });

  it("lets entries be taken while they are walked (a deadline sweep)", () => {
    const waiting = new InFlight<number>(4);
    for (let i = 0; i < 10; i++) waiting.add(i);
    const seen: number[] = [];
    for (const [id, value] of waiting.entries()) {
      seen.push(value);
      if (value < 6) waiting.take(id);
      else break;
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(waiting.oldest(), 6);
    assert.equal(waiting.size, 4);
  });
});
