import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { AsyncQueue } from "../src/async-queue.js";
import { endable } from "../src/endable.js";

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** The stream over `source`, with its end function and how often it was watched and unwatched. */
function watched<T>(source: AsyncIterable<T>) {
  const state = { end: undefined as ((err: unknown) => void) | undefined, watching: 0, unwatched: 0 };
  const stream = endable(source, (end) => {
    state.end = end;
    state.watching++;
    return () => state.unwatched++;
  });
  return { state, reader: stream[Symbol.asyncIterator]() };
}

describe("endable", () => {
  it("passes the source's messages and its end through, and stops watching when it ends", async () => {
    const source = new AsyncQueue<number>();
    const { state, reader } = watched(source);
    source.push(1);
    source.push(2);
    source.close();
    assert.deepEqual(await reader.next(), { value: 1, done: false });
    assert.equal(state.watching, 1);
    assert.deepEqual(await reader.next(), { value: 2, done: false });
    assert.deepEqual(await reader.next(), { value: undefined, done: true });
    assert.equal(state.unwatched, 1);
  });

  it("fails a waiting read with the error it is ended with, and tells the source to stop", async () => {
    const source = new AsyncQueue<number>();
    const { state, reader } = watched(source);
    source.push(1);
    assert.equal((await reader.next()).value, 1);
    const waiting = reader.next();
    const err = new Error("revoked");
    state.end!(err);
    state.end!(new Error("a second end changes nothing"));
    await assert.rejects(waiting, (thrown) => thrown === err);
    assert.equal(state.unwatched, 1);
    // The source was returned: what it gets now goes nowhere, and the stream stays ended.
    source.push(2);
    assert.equal(source.size, 0);
    assert.deepEqual(await reader.next(), { value: undefined, done: true });
  });

  it("fails the next read when ended while the consumer holds a message", async () => {
    const source = new AsyncQueue<number>();
    const { state, reader } = watched(source);
    source.push(1);
    source.push(2);
    assert.equal((await reader.next()).value, 1);
    state.end!(new Error("revoked between reads"));
    await assert.rejects(reader.next(), /revoked between reads/);
    assert.equal(state.unwatched, 1);
  });

  it("holds no message it has passed on while the stream stays open", async () => {
    // A long-lived internal stream carries millions of messages; each must be free once read.
    const source = new AsyncQueue<{ n: number }>();
    const { state, reader } = watched(source);
    const passed: WeakRef<{ n: number }>[] = [];
    for (let n = 0; n < 200; n++) {
      const message = { n };
      passed.push(new WeakRef(message));
      source.push(message);
      assert.equal((await reader.next()).value?.n, n);
    }
    // Weak references stay set until the current job ends; the last message may still be in the reader's frame.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    const held = passed.slice(0, -1).filter((ref) => ref.deref() !== undefined).length;
    assert.equal(held, 0, `${held} of 199 messages read are still held`);
    state.end!(new Error("done"));
    await assert.rejects(reader.next(), /done/);
  });
});
