import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { SqliteEngine } from "@parley/relational";
import type { GroupChange } from "../src/ports.js";
import { sqliteChatMigrations } from "../src/adapters/store/sqlite/sqlite-migrations.js";
import { SqliteMessageStore } from "../src/adapters/store/sqlite/sqlite-message-store.js";
import { draft, newId, systemDraft, TooManyMembers } from "./message-store-fixtures.js";

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
      // Version 2 moves the heads; versions 3 (edits and deletions) and 4 (reactions) follow, as on any file from before them.
      assert.deepEqual(await again.migrate("chat", sqliteChatMigrations), [2, 3, 4]);
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
});
