import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openPgliteDb } from "../src/index.js";
import { describeRelationalContract } from "./relational-contract.js";

describeRelationalContract("pglite", async () => {
  const db = await openPgliteDb(undefined);
  return { db, cleanup: () => db.close() };
});

describe("relational store (pglite data folder)", () => {
  it("keeps committed data across close and reopen", async () => {
    const root = await mkdtemp(join(tmpdir(), "parley-pglite-"));
    // A folder below a missing parent: the adapter creates the parents.
    const dataDir = join(root, "nested", "db");
    try {
      const first = await openPgliteDb(dataDir);
      await first.query("CREATE TABLE kept (id int8 PRIMARY KEY, note text NOT NULL)");
      await first.transaction((tx) => tx.query("INSERT INTO kept VALUES ($1, $2)", ["9007199254740993", "hello"]));
      await first.close();

      const reopened = await openPgliteDb(dataDir);
      try {
        const { rows } = await reopened.query("SELECT id, note FROM kept");
        assert.deepEqual(rows, [{ id: "9007199254740993", note: "hello" }]);
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
