import assert from "node:assert/strict";
import { setImmediate as turn } from "node:timers/promises";
import { describe, it } from "node:test";
import { inboxBucket, lastSeqOf, monthOf } from "../src/adapters/store/cassandra/buckets.js";
import { applyGroupChange } from "../src/adapters/store/cassandra/group-change.js";
import { toConversationRecord, toConversationState, toMessage } from "../src/adapters/store/cassandra/rows.js";
import {
  claimSeq,
  ENTRY_MESSAGE,
  ENTRY_READ,
  SeqContention,
  type EntryRef,
  type InboxOps,
  type InboxRowRef,
} from "../src/adapters/store/cassandra/seq-claim.js";
import type { StoredMessage } from "../src/ports.js";

/** The pure parts of the Cassandra message store; the store itself runs only against a server (cassandra-message-store.test.ts). */

const snowflakeAt = (iso: string) => BigInt(Date.parse(iso) - Date.UTC(2025, 0, 1)) << 22n;

describe("cassandra store > buckets", () => {
  it("takes a message's month from its Snowflake id's timestamp", () => {
    assert.equal(monthOf(0n), 202501);
    assert.equal(monthOf(1_234n), 202501, "worker and sequence bits do not move the month");
    assert.equal(monthOf(snowflakeAt("2026-11-30T23:59:59.999Z")), 202611);
    assert.equal(monthOf(snowflakeAt("2026-12-01T00:00:00.000Z")), 202612);
    assert.equal(monthOf(snowflakeAt("2027-01-15T12:00:00.000Z") | 0x3fffffn), 202701);
  });

  it("puts 10,000 seqs in each inbox bucket, from seq 1", () => {
    assert.deepEqual([1n, 10_000n, 10_001n, 20_000n, 20_001n].map(inboxBucket), [0n, 0n, 1n, 1n, 2n]);
    assert.equal(lastSeqOf(0n), 10_000n);
    assert.equal(lastSeqOf(inboxBucket(12_345n)), 20_000n);
    assert.throws(() => inboxBucket(0n), RangeError);
  });
});

describe("cassandra store > rows", () => {
  const created = new Date(Date.UTC(2026, 10, 30));

  it("maps a message row back to the stored message, a blob as a plain Uint8Array and no system field when null", () => {
    const row = {
      conversation_id: 7n,
      message_id: 9n,
      sender_id: 0n,
      sender_device_id: 0n,
      client_msg_id: "",
      text: "",
      system: Buffer.from([1, 2, 255]),
      created_at: created,
    };
    const system = toMessage(row);
    assert.deepEqual(system.system, new Uint8Array([1, 2, 255]));
    assert.equal(Buffer.isBuffer(system.system), false);
    const plain = toMessage({ ...row, sender_id: 3n, client_msg_id: "c", text: "hi", system: null });
    assert.equal("system" in plain, false);
    assert.deepEqual(plain, { messageId: 9n, conversationId: 7n, senderId: 3n, senderDeviceId: 0n, clientMsgId: "c", text: "hi", createdAt: created });
  });

  it("maps a group row to members ordered by user id with their read markers, and its pending system message", () => {
    const state = toConversationState({
      id: 5n,
      kind: 2,
      name: "team",
      created_at: created,
      history_visible: true,
      deleted: false,
      version: 3n,
      roles: new Map([
        [30n, 1],
        [10n, 3],
      ]),
      joined: new Map([
        [30n, created],
        [10n, created],
      ]),
      history_from: new Map([
        [30n, 44n],
        [10n, 0n],
      ]),
      pending_message_id: 50n,
      pending_text: "",
      pending_system: Buffer.from([7]),
      pending_created_at: created,
      pending_recipients: new Set([10n, 30n]),
    });
    assert.equal(state.version, 3n);
    assert.deepEqual(state.pending, {
      message: {
        messageId: 50n,
        conversationId: 5n,
        senderId: 0n,
        senderDeviceId: 0n,
        clientMsgId: "",
        text: "",
        system: new Uint8Array([7]),
        createdAt: created,
      },
      recipients: [10n, 30n],
    });
    const record = toConversationRecord(state, new Map([[30n, 48n]]));
    assert.deepEqual(
      record.members.map((m) => [m.userId, m.role, m.readMessageId, m.historyFromMessageId]),
      [
        [10n, "owner", 0n, 0n],
        [30n, "member", 48n, 44n],
      ],
    );
    assert.deepEqual(record.settings, { historyVisibleToNewMembers: true });
  });

  it("reads a direct conversation without settings, and a deleted one's empty collections (null) as no members", () => {
    const base = { id: 5n, kind: 1, name: "", created_at: created, history_visible: false, deleted: true, version: 1n };
    const state = toConversationState({ ...base, roles: null, joined: null, history_from: null, pending_message_id: null });
    assert.equal(state.pending, undefined);
    const record = toConversationRecord(state, new Map());
    assert.deepEqual([record.kind, record.members, record.deleted, "settings" in record], ["direct", [], true, false]);
  });
});

describe("cassandra store > group changes", () => {
  const now = new Date(Date.UTC(2026, 10, 30));
  const system = (messageId: bigint): StoredMessage => ({
    messageId,
    conversationId: 1n,
    senderId: 0n,
    senderDeviceId: 0n,
    clientMsgId: "",
    text: "",
    createdAt: now,
  });
  const group = (historyVisible: boolean) =>
    toConversationState({
      id: 1n,
      kind: 2,
      name: "g",
      created_at: now,
      history_visible: historyVisible,
      deleted: false,
      version: 1n,
      roles: new Map([
        [10n, 3],
        [20n, 1],
      ]),
      joined: new Map([
        [10n, now],
        [20n, now],
      ]),
      history_from: new Map([
        [10n, 0n],
        [20n, 0n],
      ]),
    });

  it("adds new members with history per the settings after the change, leaving existing members as they are", () => {
    const hidden = applyGroupChange(
      group(false),
      {
        add: [
          { userId: 30n, role: "admin" },
          { userId: 20n, role: "admin" },
        ],
        systemMessage: system(99n),
      },
      now,
    );
    assert.deepEqual(hidden.added, [30n]);
    assert.deepEqual([hidden.roles.get(30n), hidden.roles.get(20n), hidden.historyFrom.get(30n)], [2, 1, 99n]);
    const shown = applyGroupChange(
      group(false),
      { add: [{ userId: 30n, role: "member" }], settings: { historyVisibleToNewMembers: true }, systemMessage: system(99n) },
      now,
    );
    assert.deepEqual([shown.historyVisible, shown.historyFrom.get(30n)], [true, 0n]);
  });

  it("sends the system message to members before and after: the removed and the added", () => {
    const next = applyGroupChange(
      group(false),
      { remove: [20n], add: [{ userId: 30n, role: "member" }], roles: [{ userId: 10n, role: "admin" }], name: "h", systemMessage: system(5n) },
      now,
    );
    assert.deepEqual([...next.roles.keys()].sort(), [10n, 30n]);
    assert.deepEqual([next.removed, next.recipients, next.name, next.roles.get(10n)], [[20n], [10n, 20n, 30n], "h", 2]);
  });

  it("a deletion removes everyone, keeps the name and ignores the rest", () => {
    const next = applyGroupChange(group(true), { delete: true, name: "ignored", add: [{ userId: 30n, role: "member" }], systemMessage: system(5n) }, now);
    assert.deepEqual([next.deleted, next.roles.size, next.name, next.added, next.removed, next.recipients], [true, 0, "g", [], [10n, 20n], [10n, 20n]]);
  });
});

/** One user's inbox in memory, with LWT semantics; `yieldEvery` makes concurrent claims interleave between the read and the insert. */
class MemoryInbox implements InboxOps {
  readonly rows = new Map<bigint, Map<bigint, EntryRef>>();
  inserts = 0;
  /** Applied inserts whose reply is lost (the caller sees an error, as on a timeout). */
  loseRepliesOf = new Set<number>();

  private of(userId: bigint) {
    const rows = this.rows.get(userId) ?? new Map<bigint, EntryRef>();
    this.rows.set(userId, rows);
    return rows;
  }

  async after(userId: bigint, afterSeq: bigint, limit: number): Promise<InboxRowRef[]> {
    await turn();
    return [...this.of(userId)]
      .filter(([seq]) => seq > afterSeq)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .slice(0, limit)
      .map(([seq, ref]) => ({ seq, ref }));
  }

  async insertIfAbsent(userId: bigint, seq: bigint, ref: EntryRef) {
    await turn();
    const n = ++this.inserts;
    const rows = this.of(userId);
    const existing = rows.get(seq);
    if (existing !== undefined) return { applied: false as const, existing };
    rows.set(seq, ref);
    if (this.loseRepliesOf.has(n)) throw new Error("write timeout (outcome unknown)");
    return { applied: true as const };
  }

  seqs(userId: bigint) {
    return [...this.of(userId).keys()].sort((a, b) => (a < b ? -1 : 1));
  }
}

const message = (messageId: bigint): EntryRef => ({ kind: ENTRY_MESSAGE, conversationId: 1n, messageId });
const range = (n: number) => Array.from({ length: n }, (_, i) => BigInt(i + 1));

describe("cassandra store > seq claims", () => {
  it("claims 1, 2, 3 one after another", async () => {
    const inbox = new MemoryInbox();
    for (const [i, id] of [11n, 12n, 13n].entries()) assert.deepEqual(await claimSeq(inbox, 7n, 0n, message(id)), { seq: BigInt(i + 1), existed: false });
    assert.deepEqual(inbox.seqs(7n), range(3));
  });

  it("keeps seqs gap-free and unique when 60 claims for one user race from the same stale floor", async () => {
    const inbox = new MemoryInbox();
    const claims = await Promise.all(range(60).map((id) => claimSeq(inbox, 7n, 0n, message(100n + id))));
    assert.deepEqual(
      claims.map((c) => c.seq).sort((a, b) => (a < b ? -1 : 1)),
      range(60),
    );
    assert.deepEqual(inbox.seqs(7n), range(60));
  });

  it("finds the entry a message already has instead of making a second one (a retry, a takeover)", async () => {
    const inbox = new MemoryInbox();
    await claimSeq(inbox, 7n, 0n, message(1n));
    const first = await claimSeq(inbox, 7n, 0n, message(2n));
    await claimSeq(inbox, 7n, 0n, message(3n));
    assert.deepEqual(await claimSeq(inbox, 7n, 0n, message(2n)), { seq: first.seq, existed: true });
    assert.deepEqual(inbox.seqs(7n), range(3));
  });

  it("tells read entries apart by reader, and a read entry from a message entry", async () => {
    const inbox = new MemoryInbox();
    const read = (readerId: bigint): EntryRef => ({ kind: ENTRY_READ, conversationId: 1n, messageId: 2n, readerId, readAt: new Date(0) });
    await claimSeq(inbox, 7n, 0n, message(2n));
    assert.deepEqual(await claimSeq(inbox, 7n, 0n, read(8n)), { seq: 2n, existed: false });
    assert.deepEqual(await claimSeq(inbox, 7n, 0n, read(9n)), { seq: 3n, existed: false });
    assert.deepEqual(await claimSeq(inbox, 7n, 0n, read(8n)), { seq: 2n, existed: true });
  });

  it("finds its own row after an insert whose outcome was unknown, and claims nothing twice", async () => {
    const inbox = new MemoryInbox();
    await claimSeq(inbox, 7n, 0n, message(1n));
    inbox.loseRepliesOf.add(2);
    assert.deepEqual(await claimSeq(inbox, 7n, 0n, message(2n)), { seq: 2n, existed: true });
    assert.deepEqual(inbox.seqs(7n), range(2));
  });

  it("rethrows when inserts keep failing, and gives up with SeqContention after too many lost races", async () => {
    const failing: InboxOps = { after: async () => [], insertIfAbsent: async () => Promise.reject(new Error("no host available")) };
    await assert.rejects(claimSeq(failing, 7n, 0n, message(1n), { maxErrors: 2 }), /no host available/);
    // An inbox whose next seq is always taken by someone else by the time the insert arrives.
    let taken = 0n;
    const hot: InboxOps = { after: async () => [], insertIfAbsent: async () => ({ applied: false, existing: message(++taken + 1_000n) }) };
    await assert.rejects(claimSeq(hot, 7n, 0n, message(1n), { maxConflicts: 5 }), SeqContention);
  });

  it("pages through rows past a floor far below the head, and stops before inserting when the lease check throws", async () => {
    const inbox = new MemoryInbox();
    for (const id of range(250)) await claimSeq(inbox, 7n, id - 1n, message(id));
    assert.deepEqual(await claimSeq(inbox, 7n, 0n, message(999n), { pageSize: 100 }), { seq: 251n, existed: false });
    const before = inbox.inserts;
    await assert.rejects(
      claimSeq(inbox, 7n, 251n, message(1_000n), {
        beforeInsert: () => {
          throw new Error("lease over");
        },
      }),
      /lease over/,
    );
    assert.equal(inbox.inserts, before);
  });
});
