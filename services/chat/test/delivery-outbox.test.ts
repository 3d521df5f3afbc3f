import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Db } from "@parley/relational";
import { createLogger } from "@parley/runtime";
import { openTestDb, until } from "@parley/testkit";
import { MemoryBus } from "../src/adapters/memory-bus.js";
import { chatMigrations } from "../src/adapters/store/migrations.js";
import { SqlDeliveryOutbox } from "../src/adapters/store/sql-delivery-outbox.js";
import { SqlMessageStore } from "../src/adapters/store/sql-message-store.js";
import { OverdueDeliveries } from "../src/overdue-deliveries.js";
import type { DeliveryEvent, EntryKey } from "../src/ports.js";
import { draft, newId } from "./message-store-fixtures.js";

const logger = createLogger("test", "silent");
const keyText = (key: EntryKey) => `${key.userId}:${key.seq}`;
const sorted = (keys: readonly EntryKey[]) => keys.map(keyText).sort();

/** The delivery outbox on Postgres: what chat migration 4 writes, and how chat processes hand entries on and recover orphaned ones. */
describe("delivery outbox (Postgres)", () => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let store: SqlMessageStore;

  before(async () => {
    ({ db, cleanup } = await openTestDb({ component: "chat", list: chatMigrations }, "parley_outbox"));
    store = new SqlMessageStore(db);
  });
  after(() => cleanup());
  // Each test starts from an empty outbox, so what it claims is what it stored.
  beforeEach(() => db.query("DELETE FROM delivery_outbox"));

  /** A direct conversation with one stored message: its two entries' keys. */
  async function storedMessage(): Promise<{ keys: EntryKey[]; conversationId: bigint; messageId: bigint; users: [bigint, bigint] }> {
    const users: [bigint, bigint] = [newId(), newId()];
    const conversation = await store.openDirect(users[0], users[1], newId());
    const message = draft(conversation.id, users[0]);
    const outcome = await store.append(message);
    return { keys: outcome.entries.map((e) => ({ userId: e.userId, seq: e.seq })), conversationId: conversation.id, messageId: message.messageId, users };
  }

  /** Everything in the outbox, made overdue by an hour so any claim takes it. */
  async function ageEverything(): Promise<void> {
    await db.query("UPDATE delivery_outbox SET claimed_at = now() - interval '1 hour'");
  }

  /** An outbox and a bus whose consumer records each event and hands its entry on, as a live process's delivery does. */
  function recordingBus(): { outbox: SqlDeliveryOutbox; bus: MemoryBus; seen: DeliveryEvent[] } {
    const outbox = new SqlDeliveryOutbox(db, logger);
    const bus = new MemoryBus();
    const seen: DeliveryEvent[] = [];
    bus.consume(async (events) => {
      for (const event of events) {
        seen.push(event);
        if (event.kind === "entry") outbox.handedOn(event.entry);
      }
    });
    return { outbox, bus, seen };
  }

  it("holds every entry a send stores until it is handed on, and then no longer", async () => {
    const outbox = new SqlDeliveryOutbox(db, logger);
    const { keys } = await storedMessage();
    assert.equal(keys.length, 2);
    await ageEverything();
    const claimed = await outbox.claimOverdue(60_000, 1_000);
    for (const key of keys)
      assert.ok(
        claimed.some((c) => keyText(c) === keyText(key)),
        `entry ${keyText(key)} is in the outbox`,
      );
    for (const key of keys) outbox.handedOn(key);
    await outbox.close();
    await ageEverything();
    assert.deepEqual(await outbox.claimOverdue(60_000, 1_000), [], "nothing is left once handed on");
  });

  it("holds read receipts too: every path that writes inbox entries goes through the outbox", async () => {
    const outbox = new SqlDeliveryOutbox(db, logger);
    const { conversationId, messageId, users } = await storedMessage();
    const read = await store.markRead(conversationId, users[1], messageId, new Date(), users);
    assert.ok(read.entries.length > 0);
    await ageEverything();
    const claimed = sorted(await outbox.claimOverdue(60_000, 1_000));
    for (const entry of read.entries) assert.ok(claimed.includes(keyText(entry)), `receipt entry ${keyText(entry)} is in the outbox`);
  });

  it("leases a claim: claimed entries are overdue again only after the overdue age", async () => {
    const outbox = new SqlDeliveryOutbox(db, logger);
    const { keys } = await storedMessage();
    await ageEverything();
    const first = await outbox.claimOverdue(60_000, 1_000);
    assert.equal(first.length, keys.length);
    assert.deepEqual(await outbox.claimOverdue(60_000, 1_000), [], "nothing is overdue right after a claim");
    await until(async () => (await outbox.claimOverdue(20, 1_000)).length === keys.length, "the claims to be overdue again at a short age");
  });

  it("splits overdue entries between processes claiming at once, never giving one to both", async () => {
    const outbox = new SqlDeliveryOutbox(db, logger);
    for (let i = 0; i < 20; i++) await storedMessage();
    await ageEverything();
    const [a, b] = await Promise.all([outbox.claimOverdue(60_000, 25), outbox.claimOverdue(60_000, 25)]);
    const both = new Set(sorted(a));
    for (const key of sorted(b)) assert.ok(!both.has(key), `${key} was claimed by both`);
    assert.equal(a.length + b.length, 40, "the two claims took the 40 overdue entries between them");
  });

  it("redelivers entries stored by a process that died before handing them on, and only those", async () => {
    const { outbox, bus, seen } = recordingBus();
    // Stored and handed on by a live process.
    const delivered = await storedMessage();
    for (const key of delivered.keys) outbox.handedOn(key);
    await outbox.close();
    // Stored by a process that then died: nobody hands these on.
    const orphaned = await storedMessage();
    const overdue = new OverdueDeliveries({ outbox, store, bus, logger, overdueMs: 200, intervalMs: 20 });
    overdue.start();
    try {
      await until(() => seen.length >= 2, "the orphaned entries back on the bus");
      const entries = seen.flatMap((event) => (event.kind === "entry" ? [event.entry] : []));
      assert.deepEqual(sorted(entries), sorted(orphaned.keys));
      assert.equal(entries[0]?.item.kind, "message");
      assert.ok(entries.every((entry) => entry.item.kind === "message" && entry.item.message.messageId === orphaned.messageId));
    } finally {
      await overdue.close();
      await bus.close();
      await outbox.close();
    }
    await ageEverything();
    assert.deepEqual(await outbox.claimOverdue(60_000, 1_000), [], "every entry was handed on in the end");
  });

  it("redelivers a reply with its quote as the recipient sees it now, as sync gives it", async () => {
    const { outbox, bus, seen } = recordingBus();
    const first = await storedMessage();
    for (const key of first.keys) outbox.handedOn(key);
    await outbox.close();
    // The reply's process died before handing it on; the quoted message was edited meanwhile.
    const [a, b] = first.users;
    const reply = draft(first.conversationId, b, { replyToMessageId: first.messageId, text: "quoting you" });
    const stored = await store.append(reply);
    await db.query("UPDATE messages SET text = 'edited since' WHERE conversation_id = $1 AND message_id = $2", [
      first.conversationId.toString(),
      first.messageId.toString(),
    ]);
    const overdue = new OverdueDeliveries({ outbox, store, bus, logger, overdueMs: 200, intervalMs: 20 });
    overdue.start();
    try {
      await until(() => seen.length >= stored.entries.length, "the orphaned reply back on the bus");
      const entries = seen.flatMap((event) => (event.kind === "entry" ? [event.entry] : []));
      assert.deepEqual(sorted(entries), sorted(stored.entries));
      for (const entry of entries) {
        assert.equal(entry.item.kind, "message");
        const quote = entry.item.kind === "message" ? entry.item.message.replyTo : undefined;
        assert.deepEqual(
          [quote?.messageId, quote?.senderId, quote?.preview, quote?.deleted, quote?.unavailable],
          [first.messageId, a, "edited since", false, false],
          `the quote in ${keyText(entry)}`,
        );
      }
    } finally {
      await overdue.close();
      await bus.close();
      await outbox.close();
    }
  });
});
