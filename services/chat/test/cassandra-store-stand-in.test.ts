import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CassandraMessageStore } from "../src/adapters/store/cassandra/cassandra-message-store.js";
import type { Cql } from "../src/adapters/store/cassandra/cql.js";
import { NotAMemberError, SearchUnavailableError } from "../src/ports.js";
import { createSchema } from "../src/adapters/store/cassandra/schema.js";
import { CqlStandIn } from "./cql-stand-in.js";
import { monthOf } from "../src/adapters/store/cassandra/buckets.js";
import { describeMessageStoreBatchContract } from "./message-store-batch-contract.js";
import { describeMessageStoreChangesContract } from "./message-store-changes-contract.js";
import { describeMessageStoreReactionsContract } from "./message-store-reactions-contract.js";
import { describeMessageStoreMentionsContract } from "./message-store-mentions-contract.js";
import { describeMessageStoreRepliesContract } from "./message-store-replies-contract.js";
import { describeMessageStoreContract, type OpenedMessageStore } from "./message-store-contract.js";
import { describeMessageStoreGroupContract } from "./message-store-group-contract.js";
import { describeMessageStoreReadingContract } from "./message-store-reading-contract.js";
import { draft, messageOf, newId, seqsOf, systemDraft } from "./message-store-fixtures.js";

/*
 * The Cassandra message store's logic against the five message store
 * contract suites, on an in-memory stand-in that interprets its CQL
 * (cql-stand-in.ts says what that does and cannot show). This is NOT a run
 * against Cassandra: that is cassandra-message-store.test.ts, which needs
 * CASSANDRA_CONTACT_POINTS.
 */
const open = async (): Promise<OpenedMessageStore> => {
  const cql = new CqlStandIn("parley_stand_in");
  await createSchema(cql, "dc1", 1);
  const storedText = async (conversationId: bigint, messageId: bigint) => {
    const [row] = await cql.read("SELECT text FROM parley_stand_in.messages WHERE conversation_id = ? AND month = ? AND message_id = ?", [
      conversationId,
      monthOf(messageId),
      messageId,
    ]);
    return row === undefined ? undefined : String(row.text);
  };
  return { store: new CassandraMessageStore(cql), cleanup: () => cql.close(), storedText };
};

const name = "cassandra adapter on an in-memory CQL stand-in";
describeMessageStoreContract(name, open);
describeMessageStoreGroupContract(name, open);
describeMessageStoreReadingContract(name, open);
describeMessageStoreBatchContract(name, open);
describeMessageStoreChangesContract(name, open);
describeMessageStoreReactionsContract(name, open);
describeMessageStoreRepliesContract(name, open);
describeMessageStoreMentionsContract(name, open);

/** A process that dies: once it has sent `statements` more statements matching `pattern`, every later statement of its store fails. */
class DyingCql implements Cql {
  private left: number | undefined;
  private pattern = /$^/;
  constructor(private readonly cql: Cql) {}
  get keyspace() {
    return this.cql.keyspace;
  }
  dieAfter(pattern: RegExp, statements = 1): void {
    this.pattern = pattern;
    this.left = statements;
  }
  private async run<T>(query: string, call: () => Promise<T>): Promise<T> {
    // Counted when sent: the statement that uses up the count still runs, the ones sent after it fail.
    if (this.left === 0) throw new Error("the process died");
    if (this.left !== undefined && this.pattern.test(query)) this.left--;
    return call();
  }
  read(q: string, p: readonly unknown[]) {
    return this.run(q, () => this.cql.read(q, p));
  }
  serialRead(q: string, p: readonly unknown[]) {
    return this.run(q, () => this.cql.serialRead(q, p));
  }
  async *scan(q: string, p: readonly unknown[]) {
    yield* await this.run(q, async () => this.cql.scan(q, p));
  }
  write(q: string, p: readonly unknown[]) {
    return this.run(q, () => this.cql.write(q, p));
  }
  lwt(q: string, p: readonly unknown[]) {
    return this.run(q, () => this.cql.lwt(q, p));
  }
  ddl(q: string) {
    return this.cql.ddl(q);
  }
  close() {
    return this.cql.close();
  }
}

describe("Cassandra message store on the stand-in > a process dying part-way", () => {
  const LEASE_MS = 300;
  const twoProcesses = async () => {
    const cql = new CqlStandIn("parley_dying");
    await createSchema(cql, "dc1", 1);
    const dying = new DyingCql(cql);
    return { dying, doomed: new CassandraMessageStore(dying, LEASE_MS), survivor: new CassandraMessageStore(cql, LEASE_MS) };
  };

  it("a retry of the client id completes the entries a dead writer left out, once each, and keeps seqs gap-free", async () => {
    const { dying, doomed, survivor } = await twoProcesses();
    const { id, members } = await direct(survivor);
    const [a, b] = members;
    const original = draft(id, a);
    dying.dieAfter(/INSERT INTO \S+\.inbox /);
    await assert.rejects(doomed.append(original, [a, b]), /the process died/);
    const partial = (await Promise.all([a, b].map((u) => survivor.inbox(u, 0n, 10)))).map((entries) => entries.length);
    assert.deepEqual(partial.toSorted(), [0, 1], "one recipient got the entry before the writer died");

    const retry = await survivor.append(draft(id, a, { clientMsgId: original.clientMsgId }), [a, b]);
    assert.deepEqual([retry.duplicate, retry.message.messageId, retry.senderSeq], [true, original.messageId, 1n]);
    for (const user of [a, b]) {
      assert.deepEqual(
        (await survivor.inbox(user, 0n, 10)).map((e) => [e.seq, messageOf(e).messageId]),
        [[1n, original.messageId]],
      );
      assert.equal(await survivor.headSeq(user), 1n);
    }
    const next = await survivor.append(draft(id, b), [a, b]);
    assert.deepEqual(seqsOf(next.entries), [2n, 2n]);
  });

  it("a claim whose writer died before storing the message is taken over by the retry, which stores its own", async () => {
    const { dying, doomed, survivor } = await twoProcesses();
    const { id, members } = await direct(survivor);
    const original = draft(id, members[0]);
    dying.dieAfter(/INSERT INTO \S+\.sent_messages /);
    await assert.rejects(doomed.append(original, members), /the process died/);
    const retry = await survivor.append(draft(id, members[0], { clientMsgId: original.clientMsgId }), members);
    assert.equal(retry.duplicate, false);
    assert.deepEqual(seqsOf(retry.entries), [1n, 1n]);
    assert.deepEqual(
      (await survivor.history(id, undefined, 10)).map((m) => m.messageId),
      [retry.message.messageId],
    );
  });

  it("a group change whose process died after it landed gets its system message before the group's next send", async () => {
    const { dying, doomed, survivor } = await twoProcesses();
    const id = newId();
    const [owner, member, joiner] = [newId(), newId(), newId()];
    const members = [
      { userId: owner, role: "owner" as const },
      { userId: member, role: "member" as const },
    ];
    await survivor.createGroup({ id, name: "g", settings: { historyVisibleToNewMembers: false }, members, systemMessage: systemDraft(id) });
    const addition = { add: [{ userId: joiner, role: "member" as const }], systemMessage: systemDraft(id) };
    dying.dieAfter(/UPDATE \S+\.conversations SET name/);
    await assert.rejects(
      doomed.updateGroup(id, () => addition),
      /the process died/,
    );
    const sent = await survivor.append(draft(id, member));
    assert.deepEqual(
      sent.entries.map((e) => [e.userId, e.seq]),
      [
        [owner, 3n],
        [member, 3n],
        [joiner, 2n],
      ],
    );
    assert.deepEqual((await survivor.inbox(joiner, 0n, 10)).map(messageOf), [addition.systemMessage, sent.message]);
    const group = await survivor.getConversation(id);
    assert.deepEqual(
      group?.members.map((m) => [m.userId, m.historyFromMessageId]),
      [
        [owner, 0n],
        [member, 0n],
        [joiner, addition.systemMessage.messageId],
      ],
    );
    const next = await survivor.updateGroup(id, () => ({ name: "renamed", systemMessage: systemDraft(id) }));
    assert.deepEqual(seqsOf(next.outcome.entries), [4n, 4n, 3n], "the finished change is not stored twice");
  });
});

async function direct(store: CassandraMessageStore) {
  const members: [bigint, bigint] = [newId(), newId()];
  const conversation = await store.openDirect(members[0], members[1], newId());
  return { id: conversation.id, members };
}

describe("Cassandra message store on the stand-in > repeats", () => {
  it("answers a repeat from a sender who has left the group since with the original, as SQL does", async () => {
    const cql = new CqlStandIn("parley_repeats");
    await createSchema(cql, "dc1", 1);
    const store = new CassandraMessageStore(cql);
    const id = newId();
    const [owner, leaver] = [newId(), newId()];
    const members = [
      { userId: owner, role: "owner" as const },
      { userId: leaver, role: "member" as const },
    ];
    await store.createGroup({ id, name: "g", settings: { historyVisibleToNewMembers: false }, members, systemMessage: systemDraft(id) });
    const sent = await store.append(draft(id, leaver));
    await store.updateGroup(id, () => ({ remove: [leaver], systemMessage: systemDraft(id) }));
    const repeat = await store.append(draft(id, leaver, { clientMsgId: sent.message.clientMsgId }));
    assert.deepEqual([repeat.duplicate, repeat.message, repeat.senderSeq], [true, sent.message, sent.senderSeq]);
    await assert.rejects(store.append(draft(id, leaver)), NotAMemberError);
  });
});

describe("cassandra adapter search", () => {
  it("refuses with SearchUnavailableError, which names the missing index and the docs", async () => {
    const cql = new CqlStandIn("parley_stand_in_search");
    await createSchema(cql, "dc1", 1);
    const store = new CassandraMessageStore(cql);
    try {
      await assert.rejects(
        store.searchMessages({ userId: 1n, words: ["hello"], limit: 20 }),
        (err) => err instanceof SearchUnavailableError && /search needs a search index.*Cassandra.*docs\/architecture\.md/.test(err.message),
      );
    } finally {
      await cql.close();
    }
  });
});
