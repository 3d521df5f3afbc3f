import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { until } from "@parley/testkit";
import { SendBatcher } from "../src/domain/send-batcher.js";
import type { MessageStore, SendOutcome, StoredMessage } from "../src/ports.js";
import { draft, newId } from "./message-store-fixtures.js";

/** A store whose appendBatch calls wait until the test settles them, in whatever order it likes. */
function heldStore(appendsInOrder: boolean | undefined) {
  const calls: { messages: readonly StoredMessage[]; settle(): void }[] = [];
  const store: Pick<MessageStore, "append" | "appendBatch" | "appendsInOrder"> = {
    ...(appendsInOrder === undefined ? {} : { appendsInOrder }),
    append: () => Promise.reject(new Error("not used")),
    appendBatch: (messages) =>
      new Promise<SendOutcome[]>((resolve) => {
        calls.push({
          messages,
          settle: () => resolve(messages.map((message) => ({ message, senderSeq: 1n, duplicate: false, entries: [] }))),
        });
      }),
  };
  return { store, calls };
}

const texts = (messages: readonly StoredMessage[]) => messages.map((m) => m.text);

describe("send batcher (group commit)", () => {
  it("on a store whose batches race, keeps a conversation's later messages out of a batch while an earlier one of it is being stored", async () => {
    const { store, calls } = heldStore(undefined);
    const batcher = new SendBatcher(store);
    const [one, two] = [newId(), newId()];
    const first = batcher.append(draft(one, 1n, { text: "A" }));
    await until(() => calls.length === 1, "the first batch");
    const later = batcher.append(draft(one, 1n, { text: "B" }));
    const elsewhere = batcher.append(draft(two, 2n, { text: "C" }));
    await until(() => calls.length === 2, "the second batch");
    assert.deepEqual(texts(calls[1]!.messages), ["C"], "another conversation's message does not wait");
    // The second batch finishing first changes nothing for B: A's batch still holds its conversation.
    calls[1]!.settle();
    assert.equal((await elsewhere).message.text, "C");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls.length, 2, "B waits for A's batch");
    calls[0]!.settle();
    assert.equal((await first).message.text, "A");
    await until(() => calls.length === 3, "B's batch once A's is stored");
    assert.deepEqual(texts(calls[2]!.messages), ["B"]);
    calls[2]!.settle();
    assert.equal((await later).message.text, "B");
  });

  it("still puts a conversation's messages that wait together into one batch, in order", async () => {
    const { store, calls } = heldStore(false);
    const batcher = new SendBatcher(store);
    const conversation = newId();
    const sends = ["A", "B", "C"].map((text) => batcher.append(draft(conversation, 1n, { text })));
    await until(() => calls.length === 1, "one batch");
    assert.deepEqual(texts(calls[0]!.messages), ["A", "B", "C"]);
    calls[0]!.settle();
    assert.deepEqual(
      (await Promise.all(sends)).map((o) => o.message.text),
      ["A", "B", "C"],
    );
  });

  it("on a store that appends in order (SQLite's worker), lets a second batch of the same conversation go while the first is stored", async () => {
    const { store, calls } = heldStore(true);
    const batcher = new SendBatcher(store);
    const conversation = newId();
    const first = batcher.append(draft(conversation, 1n, { text: "A" }));
    await until(() => calls.length === 1, "the first batch");
    const second = batcher.append(draft(conversation, 1n, { text: "B" }));
    await until(() => calls.length === 2, "the second batch, at once");
    assert.deepEqual(texts(calls[1]!.messages), ["B"]);
    for (const call of calls) call.settle();
    await Promise.all([first, second]);
  });
});
