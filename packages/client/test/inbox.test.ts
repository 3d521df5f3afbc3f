import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { InboxEntrySchema, type InboxEntry } from "@parley/contracts/parley/chat/v1/chat";
import { InboxTracker } from "../src/inbox.js";

/** A message entry; its message id defaults to 1000 + seq. */
function message(seq: number, messageId = 1000 + seq): InboxEntry {
  return create(InboxEntrySchema, { seq: BigInt(seq), item: { case: "message", value: { messageId: BigInt(messageId), text: `m${seq}` } } });
}

function receipt(seq: number): InboxEntry {
  return create(InboxEntrySchema, { seq: BigInt(seq), item: { case: "read", value: { conversationId: 1n, userId: 2n, messageId: 1001n } } });
}

const seqs = (entries: InboxEntry[]) => entries.map((entry) => Number(entry.seq));

describe("InboxTracker", () => {
  it("applies entries in order and moves the cursor", () => {
    const inbox = new InboxTracker();
    assert.deepEqual(seqs(inbox.offerAll([message(1), message(2), receipt(3)]).apply), [1, 2, 3]);
    assert.equal(inbox.cursor, 3n);
    assert.deepEqual(inbox.offer(message(4)), { apply: [message(4)], syncNeeded: false });
    assert.equal(inbox.cursor, 4n);
  });

  it("starts from a given cursor", () => {
    const inbox = new InboxTracker(41n);
    assert.deepEqual(seqs(inbox.offer(message(42)).apply), [42]);
  });

  it("drops entries at or below the cursor: duplicates from a sync and a push", () => {
    const inbox = new InboxTracker();
    inbox.offerAll([message(1), message(2)]);
    assert.deepEqual(inbox.offer(message(2)), { apply: [], syncNeeded: false });
    assert.deepEqual(inbox.offer(message(1)), { apply: [], syncNeeded: false });
    assert.deepEqual(seqs(inbox.offerAll([message(2), message(3)]).apply), [3]);
  });

  it("drops a message it already applied under another seq, but moves past it", () => {
    const inbox = new InboxTracker();
    inbox.offer(message(1, 77));
    assert.deepEqual(inbox.offer(message(2, 77)).apply, []);
    assert.equal(inbox.cursor, 2n);
    assert.deepEqual(seqs(inbox.offer(message(3)).apply), [3]);
  });

  it("does not de-duplicate read receipts by message id", () => {
    const inbox = new InboxTracker();
    assert.deepEqual(seqs(inbox.offerAll([receipt(1), receipt(2)]).apply), [1, 2]);
  });

  it("holds an entry above a gap and asks for a sync", () => {
    const inbox = new InboxTracker(5n);
    assert.deepEqual(inbox.offer(message(8)), { apply: [], syncNeeded: true });
    assert.equal(inbox.cursor, 5n);
    assert.ok(inbox.hasGap);
    assert.equal(inbox.buffered, 1);
  });

  it("applies held entries once the sync fills the gap, each once", () => {
    const inbox = new InboxTracker(5n);
    inbox.offer(message(8));
    inbox.offer(message(9));
    const filled = inbox.offerAll([message(6), message(7), message(8)]);
    assert.deepEqual(seqs(filled.apply), [6, 7, 8, 9]);
    assert.equal(filled.syncNeeded, false);
    assert.equal(inbox.cursor, 9n);
    assert.equal(inbox.buffered, 0);
  });

  it("reorders entries that arrive out of order", () => {
    const inbox = new InboxTracker();
    assert.equal(inbox.offer(message(3)).syncNeeded, true);
    assert.equal(inbox.offer(message(2)).syncNeeded, true);
    const offer = inbox.offer(message(1));
    assert.deepEqual(seqs(offer.apply), [1, 2, 3]);
    assert.equal(offer.syncNeeded, false);
  });

  it("keeps asking for a sync while part of a gap remains", () => {
    const inbox = new InboxTracker();
    inbox.offerAll([message(2), message(5)]);
    const offer = inbox.offer(message(1));
    assert.deepEqual(seqs(offer.apply), [1, 2]);
    assert.equal(offer.syncNeeded, true);
    assert.equal(inbox.cursor, 2n);
  });

  it("ignores a second copy of a held entry", () => {
    const inbox = new InboxTracker();
    inbox.offer(message(2));
    inbox.offer(message(2));
    assert.equal(inbox.buffered, 1);
    assert.deepEqual(seqs(inbox.offer(message(1)).apply), [1, 2]);
  });

  it("bounds what it holds by dropping the highest entries, which a sync brings again", () => {
    const inbox = new InboxTracker(0n, { maxBuffered: 2 });
    inbox.offerAll([message(5), message(4), message(9)]);
    assert.equal(inbox.buffered, 2);
    assert.deepEqual(seqs(inbox.offerAll([message(1), message(2), message(3)]).apply), [1, 2, 3, 4, 5]);
    assert.equal(inbox.hasGap, false);
  });

  it("skips forward to a cursor from elsewhere, dropping what it covers and applying what it joins", () => {
    const inbox = new InboxTracker();
    inbox.offerAll([message(3), message(5)]);
    const offer = inbox.skipTo(4n);
    assert.deepEqual(seqs(offer.apply), [5]);
    assert.equal(inbox.cursor, 5n);
    assert.deepEqual(inbox.skipTo(2n).apply, []);
    assert.equal(inbox.cursor, 5n);
  });

  it("forgets the oldest message ids beyond its memory", () => {
    const inbox = new InboxTracker(0n, { rememberMessages: 2 });
    inbox.offerAll([message(1, 10), message(2, 20), message(3, 30)]);
    // 10 was forgotten, 30 is remembered.
    assert.deepEqual(seqs(inbox.offerAll([message(4, 10), message(5, 30)]).apply), [4]);
  });
});
