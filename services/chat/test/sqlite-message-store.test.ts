import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { SqliteEngine } from "@parley/relational";
import type { GroupChange } from "../src/ports.js";
import { sqliteChatMigrations } from "../src/adapters/store/sqlite/sqlite-migrations.js";
import { INDEX_BATCH } from "../src/adapters/store/sqlite/search-index.js";
import { SEARCH_SQL } from "../src/adapters/store/sqlite/search-procedures.js";
import { SqliteMessageStore } from "../src/adapters/store/sqlite/sqlite-message-store.js";
import { draft, newId, systemDraft, TooManyMembers } from "./message-store-fixtures.js";

/** FTS5's own check that an external-content index holds exactly the tokens of the rows it indexes. */
function assertIndexIntact(file: string): void {
  const raw = new DatabaseSync(file);
  try {
    raw.exec("INSERT INTO messages_search (messages_search, rank) VALUES ('integrity-check', 1)");
  } finally {
    raw.close();
  }
}

/** What the SQLite adapter adds to the shared contract: decide() runs outside the worker's transaction, and the data lives in a file. */
describe("SQLite message store", () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), "parley-chat-sqlite-"));
  });
  after(() => rm(folder, { recursive: true, force: true }));

  const open = async (name: string) => {
    const engine = await SqliteEngine.open({ path: join(folder, name) });
    await engine.migrate("chat", sqliteChatMigrations);
    return engine;
  };

  it("keeps the member cap when two stores on one engine change a group at once", async () => {
    const engine = await open("two-stores.sqlite");
    try {
      // Each store lets only its own changes take turns, so the two interleave between decide() and the write.
      const stores = [new SqliteMessageStore(engine), new SqliteMessageStore(engine)];
      const id = newId();
      const owner = newId();
      const members = [{ userId: owner, role: "owner" as const }, ...Array.from({ length: 94 }, () => ({ userId: newId(), role: "member" as const }))];
      await stores[0]!.createGroup({ id, name: "full soon", settings: { historyVisibleToNewMembers: false }, members, systemMessage: systemDraft(id) });
      let decisions = 0;
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          stores[i % 2]!.updateGroup(id, (current): GroupChange => {
            decisions++;
            if (current.members.length + 1 > 100) throw new TooManyMembers(`group ${id} is full`);
            return { add: [{ userId: newId(), role: "member" }], systemMessage: systemDraft(id) };
          }),
        ),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 5);
      for (const r of results) if (r.status === "rejected") assert.ok(r.reason instanceof TooManyMembers, String(r.reason));
      assert.equal((await stores[1]!.getConversation(id))!.members.length, 100);
      assert.ok(decisions > 20, `a change decided against a group that then changed is decided again (${decisions} decisions)`);
      assert.equal(await stores[0]!.headSeq(owner), 6n, "the creation and five additions, each once");
    } finally {
      await engine.close();
    }
  });

  it("keeps its data, seqs and schema when the file is opened again", async () => {
    const path = "reopen.sqlite";
    const first = await open(path);
    const [a, b] = [newId(), newId()];
    let conversationId: bigint;
    try {
      const store = new SqliteMessageStore(first);
      conversationId = (await store.openDirect(a, b, newId())).id;
      await store.appendBatch([draft(conversationId, a), draft(conversationId, b)]);
    } finally {
      await first.close();
    }
    const again = await SqliteEngine.open({ path: join(folder, path) });
    try {
      assert.deepEqual(await again.migrate("chat", sqliteChatMigrations), [], "the schema is applied once");
      const store = new SqliteMessageStore(again);
      assert.equal((await store.history(conversationId, undefined, 10)).length, 2);
      const next = await store.append(draft(conversationId, a));
      assert.deepEqual(
        next.entries.map((e) => e.seq),
        [3n, 3n],
      );
    } finally {
      await again.close();
    }
  });

  it("moves a version 1 file, whose heads had a table of their own, to heads read from the inbox, and goes on with the next seqs", async () => {
    const path = "version-1.sqlite";
    const first = await SqliteEngine.open({ path: join(folder, path) });
    const [a, b] = [newId(), newId()];
    let conversationId: bigint;
    try {
      await first.migrate("chat", sqliteChatMigrations.slice(0, 1));
      const store = new SqliteMessageStore(first);
      conversationId = (await store.openDirect(a, b, newId())).id;
      await store.appendBatch([draft(conversationId, a), draft(conversationId, b)]);
    } finally {
      await first.close();
    }
    // What version 1's code kept beside the entries.
    const raw = new DatabaseSync(join(folder, path));
    raw.prepare("INSERT INTO inbox_heads (user_id, head_seq) VALUES (?, 2), (?, 2)").run(a, b);
    raw.close();
    const again = await SqliteEngine.open({ path: join(folder, path) });
    try {
      // Version 2 moves the heads; versions 3 (edits and deletions), 4 (search), 5 (reactions) and 6 (rowids) follow, as on any file from before them.
      assert.deepEqual(await again.migrate("chat", sqliteChatMigrations), [2, 3, 4, 5, 6]);
      const store = new SqliteMessageStore(again);
      assert.equal(await store.headSeq(a), 2n);
      const next = await store.append(draft(conversationId, b));
      assert.deepEqual(
        next.entries.map((e) => e.seq),
        [3n, 3n],
      );
    } finally {
      await again.close();
    }
    const migrated = new DatabaseSync(join(folder, path));
    assert.throws(() => migrated.prepare("SELECT * FROM inbox_heads"), /no such table/);
    migrated.close();
  });

  it("indexes the messages a file held before search, then keeps the index in step with sends and edits", async () => {
    const path = "before-search.sqlite";
    const first = await SqliteEngine.open({ path: join(folder, path) });
    const [a, b] = [newId(), newId()];
    let conversationId: bigint;
    let old: bigint;
    try {
      await first.migrate(
        "chat",
        sqliteChatMigrations.filter((m) => m.version < 4),
      );
      const store = new SqliteMessageStore(first);
      conversationId = (await store.openDirect(a, b, newId())).id;
      old = (await store.append(draft(conversationId, a, { text: "Migrated words" }))).message.messageId;
    } finally {
      await first.close();
    }
    const again = await SqliteEngine.open({ path: join(folder, path) });
    try {
      assert.deepEqual(await again.migrate("chat", sqliteChatMigrations), [4, 5, 6]);
      const store = new SqliteMessageStore(again);
      const found = await store.searchMessages({ userId: b, words: ["migrated", "words"], limit: 10 });
      assert.deepEqual(
        found.map((m) => m.messageId),
        [old],
      );
      const added = (await store.append(draft(conversationId, b, { text: "more words" }))).message.messageId;
      await store.editMessage({ conversationId, messageId: old, userId: a, text: "Changed", at: new Date() });
      const words = await store.searchMessages({ userId: a, words: ["words"], limit: 10 });
      assert.deepEqual(
        words.map((m) => m.messageId),
        [added],
      );
      // Both rows are in the index now (the search moved them): an erasure and an edit replace their tokens.
      await store.deleteMessage({ conversationId, messageId: added, userId: b, forEveryone: true, at: new Date() });
      await store.editMessage({ conversationId, messageId: old, userId: a, text: "Changed again", at: new Date() });
      assert.deepEqual(await store.searchMessages({ userId: a, words: ["words"], limit: 10 }), []);
      assert.equal((await store.searchMessages({ userId: b, words: ["again"], limit: 10 }))[0]?.messageId, old);
      assert.deepEqual(await store.searchMessages({ userId: b, words: ["changed", "migrated"], limit: 10 }), []);
    } finally {
      await again.close();
    }
    assertIndexIntact(join(folder, path));
  });

  it("moves a send's pending rows into the index every few hundred messages, so the queue stays short", async () => {
    const path = "pending.sqlite";
    const engine = await open(path);
    const [a, b] = [newId(), newId()];
    try {
      const store = new SqliteMessageStore(engine);
      const conversationId = (await store.openDirect(a, b, newId())).id;
      for (let i = 0; i < INDEX_BATCH + 10; i += 50) {
        await store.appendBatch(Array.from({ length: 50 }, () => draft(conversationId, a, { text: "queued words" })));
      }
      const edited = (await store.append(draft(conversationId, a, { text: "pending then edited" }))).message.messageId;
      await store.editMessage({ conversationId, messageId: edited, userId: a, text: "now different", at: new Date() });
      // Read beside the running engine (WAL lets a reader in): some rows wait, most were moved by sends.
      const raw = new DatabaseSync(join(folder, path), { readOnly: true });
      try {
        const pending = Number(raw.prepare("SELECT count(*) AS n FROM messages_search_pending").get()!.n);
        assert.ok(pending > 0 && pending < INDEX_BATCH, `${pending} rows pending`);
        const indexed = Number(raw.prepare("SELECT count(*) AS n FROM messages_search WHERE messages_search MATCH 'queued'").get()!.n);
        assert.ok(indexed >= INDEX_BATCH, `${indexed} rows indexed`);
      } finally {
        raw.close();
      }
      // A search moves the rest first: the edited row is found by its text as it is now.
      assert.deepEqual(
        (await store.searchMessages({ userId: b, words: ["different"], limit: 5 })).map((m) => m.messageId),
        [edited],
      );
      assert.deepEqual(await store.searchMessages({ userId: b, words: ["pending"], limit: 5 }), []);
      assert.equal((await store.searchMessages({ userId: b, words: ["queued"], limit: 50 })).length, 50);
    } finally {
      await engine.close();
    }
    assertIndexIntact(join(folder, path));
  });

  it("reads search hits through the FTS5 index, not by scanning messages", async () => {
    const path = "search-plan.sqlite";
    await (await open(path)).close();
    const db = new DatabaseSync(join(folder, path), { readOnly: true });
    try {
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${SEARCH_SQL}`)
        .all()
        .map((row) => String(row.detail));
      assert.ok(
        plan.some((step) => step.includes("VIRTUAL TABLE INDEX")),
        plan.join("\n"),
      );
      assert.ok(!plan.some((step) => /SCAN m\b/.test(step)), plan.join("\n"));
      // Newest first straight from the index (rowid = message id): no sort of every hit before the page is cut.
      assert.ok(!plan.some((step) => step.includes("TEMP B-TREE")), plan.join("\n"));
    } finally {
      db.close();
    }
  });

  it("renumbers a version 5 file's rows to rowid = message id, rebuilding the index, so search walks newest first", async () => {
    const path = "before-rowids.sqlite";
    const first = await SqliteEngine.open({ path: join(folder, path) });
    const [a, b] = [newId(), newId()];
    let conversationId: bigint;
    const ids: bigint[] = [];
    try {
      await first.migrate(
        "chat",
        sqliteChatMigrations.filter((m) => m.version < 6),
      );
      const store = new SqliteMessageStore(first);
      conversationId = (await store.openDirect(a, b, newId())).id;
      for (let i = 0; i < 5; i++) ids.push(newId());
      // Stored out of id order, as a reply or a mention (stored by a call of its own) can be.
      for (const i of [1, 0, 3, 2, 4]) await store.append(draft(conversationId, a, { messageId: ids[i]!, text: `common word ${i}` }));
    } finally {
      await first.close();
    }
    // What version 5's code wrote: rowids handed out by SQLite in storage order, the index keyed by them, one row still queued.
    const raw = new DatabaseSync(join(folder, path));
    try {
      raw.exec("UPDATE messages SET rowid = (SELECT count(*) FROM messages o WHERE o.rowid <= messages.rowid)");
      raw.exec("DELETE FROM messages_search_pending");
      raw.exec("INSERT INTO messages_search (messages_search) VALUES ('rebuild')");
      raw.exec("INSERT INTO messages_search_pending (message_rowid) SELECT max(rowid) FROM messages");
    } finally {
      raw.close();
    }
    const again = await SqliteEngine.open({ path: join(folder, path) });
    try {
      assert.deepEqual(await again.migrate("chat", sqliteChatMigrations), [6]);
      const store = new SqliteMessageStore(again);
      const found = await store.searchMessages({ userId: b, words: ["common", "word"], limit: 3 });
      assert.deepEqual(
        found.map((m) => m.messageId),
        [ids[4], ids[3], ids[2]],
        "newest first by id",
      );
      const next = await store.searchMessages({ userId: b, words: ["common"], limit: 3, beforeMessageId: ids[2]! });
      assert.deepEqual(
        next.map((m) => m.messageId),
        [ids[1], ids[0]],
      );
      const added = (await store.append(draft(conversationId, b, { text: "common word later" }))).message.messageId;
      assert.equal((await store.searchMessages({ userId: a, words: ["common"], limit: 1 }))[0]?.messageId, added);
    } finally {
      await again.close();
    }
    const check = new DatabaseSync(join(folder, path));
    try {
      const mismatched = check.prepare("SELECT count(*) AS n FROM messages WHERE rowid != message_id").get() as { n: bigint | number };
      assert.equal(Number(mismatched.n), 0, "every row's rowid is its message id");
    } finally {
      check.close();
    }
    assertIndexIntact(join(folder, path));
  });
});
