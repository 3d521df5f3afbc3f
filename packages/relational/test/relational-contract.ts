import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { isUniqueViolation, migrate, type Db, type Migration } from "../src/index.js";

/** Opens a fresh, empty database for the suite; cleanup closes and discards it. */
export type OpenDb = () => Promise<{ db: Db; cleanup(): Promise<void> }>;

/**
 * The contract of the relational port (src/port.ts) and of `migrate`, run
 * against one adapter. Every adapter's test file calls this once, so a
 * behaviour the services rely on holds on the embedded and the distributed
 * store alike. Tests share one database and keep to their own tables.
 */
export function describeRelationalContract(name: string, open: OpenDb): void {
  describe(`relational store (${name})`, () => {
    let db: Db;
    let cleanup: (() => Promise<void>) | undefined;

    before(async () => {
      ({ db, cleanup } = await open());
    });
    after(async () => {
      await cleanup?.();
    });

    it("binds positional parameters", async () => {
      const result = await db.query<{ sum: number; greeting: string }>("SELECT $1::int + $2::int AS sum, 'hello ' || $3::text AS greeting", [2, 3, "world"]);
      assert.deepEqual(result.rows, [{ sum: 5, greeting: "hello world" }]);
    });

    it("returns int8 and bigserial values above 2^53 as exact decimal strings", async () => {
      await db.query("CREATE TABLE contract_int8 (id bigserial PRIMARY KEY, n int8 NOT NULL)");
      await db.query("SELECT setval('contract_int8_id_seq', 9007199254740992)");
      const inserted = await db.query<{ id: unknown; n: unknown }>("INSERT INTO contract_int8 (n) VALUES ($1) RETURNING id, n", ["9223372036854775807"]);
      assert.deepEqual(inserted.rows, [{ id: "9007199254740993", n: "9223372036854775807" }]);
      const small = await db.query<{ n: unknown }>("SELECT 42::int8 AS n");
      assert.deepEqual(small.rows, [{ n: "42" }], "small int8 values are strings too, never numbers");
    });

    it("returns timestamptz as a Date", async () => {
      const result = await db.query<{ at: unknown }>("SELECT $1::timestamptz AS at", ["2024-02-29T12:34:56.789Z"]);
      const at = result.rows[0]?.at;
      assert.ok(at instanceof Date, `expected a Date, got ${typeof at}`);
      assert.equal(at.toISOString(), "2024-02-29T12:34:56.789Z");
    });

    it("returns jsonb as parsed values", async () => {
      const doc = { name: "Ada", tags: ["a", "b"], nested: { ok: true, none: null }, n: 1.5 };
      const result = await db.query<{ doc: unknown }>("SELECT $1::jsonb AS doc", [JSON.stringify(doc)]);
      assert.deepEqual(result.rows[0]?.doc, doc);
    });

    it("counts the rows that INSERT, UPDATE and DELETE affect without RETURNING", async () => {
      await db.query("CREATE TABLE contract_count (id int PRIMARY KEY, v int NOT NULL)");
      assert.equal((await db.query("INSERT INTO contract_count VALUES (1, 0), (2, 0), (3, 1)")).rowCount, 3);
      assert.equal((await db.query("UPDATE contract_count SET v = v + 1 WHERE v = 0")).rowCount, 2);
      assert.equal((await db.query("UPDATE contract_count SET v = 9 WHERE id = 99")).rowCount, 0);
      assert.equal((await db.query("DELETE FROM contract_count WHERE id >= $1", [2])).rowCount, 2);
    });

    it("counts the rows that SELECT returns", async () => {
      const three = await db.query("SELECT g FROM generate_series(1, 3) AS g");
      assert.equal(three.rowCount, 3);
      assert.equal(three.rows.length, 3);
      assert.equal((await db.query("SELECT 1 WHERE false")).rowCount, 0);
    });

    it("commits every statement of a transaction that returns, and returns its value", async () => {
      await db.query("CREATE TABLE contract_commit (id int PRIMARY KEY)");
      const value = await db.transaction(async (tx) => {
        await tx.query("INSERT INTO contract_commit VALUES (1)");
        await tx.query("INSERT INTO contract_commit VALUES (2)");
        return "done";
      });
      assert.equal(value, "done");
      assert.deepEqual(await ids(db, "contract_commit"), [1, 2]);
    });

    it("rolls back every statement when the transaction throws", async () => {
      await db.query("CREATE TABLE contract_rollback (id int PRIMARY KEY)");
      const boom = new Error("boom");
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO contract_rollback VALUES (1)");
          await tx.query("INSERT INTO contract_rollback VALUES (2)");
          throw boom;
        }),
        (err: unknown) => err === boom,
      );
      assert.deepEqual(await ids(db, "contract_rollback"), []);
    });

    it("joins the outer transaction when transaction is called on its handle", async () => {
      await db.query("CREATE TABLE contract_nested (id int PRIMARY KEY)");
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO contract_nested VALUES (1)");
          await tx.transaction(async (inner) => {
            assert.deepEqual(await ids(inner, "contract_nested"), [1], "the inner handle sees the outer's writes");
            await inner.query("INSERT INTO contract_nested VALUES (2)");
          });
          throw new Error("outer fails after the inner one returned");
        }),
        /outer fails/,
      );
      assert.deepEqual(await ids(db, "contract_nested"), [], "the inner writes rolled back with the outer");
    });

    it("keeps the SQLSTATE so isUniqueViolation recognises a duplicate key and nothing else", async () => {
      await db.query("CREATE TABLE contract_unique (id int PRIMARY KEY, v int NOT NULL)");
      await db.query("INSERT INTO contract_unique VALUES (1, 1)");
      const duplicate = await db.query("INSERT INTO contract_unique VALUES (1, 2)").catch((err: unknown) => err);
      assert.equal(isUniqueViolation(duplicate), true);
      const notNull = await db.query("INSERT INTO contract_unique VALUES (2, NULL)").catch((err: unknown) => err);
      assert.equal(isUniqueViolation(notNull), false);
      assert.equal((notNull as { code?: unknown }).code, "23502");
      assert.equal(isUniqueViolation(new Error("duplicate key")), false);
      assert.equal(isUniqueViolation(undefined), false);
    });

    it("never loses an update when 20 concurrent transactions increment a row locked FOR UPDATE", async () => {
      await db.query("CREATE TABLE contract_counter (id int PRIMARY KEY, n int NOT NULL)");
      await db.query("INSERT INTO contract_counter VALUES (1, 0)");
      const increment = () =>
        db.transaction(async (tx) => {
          const { rows } = await tx.query<{ n: number }>("SELECT n FROM contract_counter WHERE id = 1 FOR UPDATE");
          await sleep(1); // read-modify-write with a gap, where a lost update would happen
          await tx.query("UPDATE contract_counter SET n = $1 WHERE id = 1", [(rows[0]?.n ?? NaN) + 1]);
        });
      await Promise.all(Array.from({ length: 20 }, increment));
      const { rows } = await db.query<{ n: number }>("SELECT n FROM contract_counter WHERE id = 1");
      assert.deepEqual(rows, [{ n: 20 }]);
    });

    describe("migrate", () => {
      it("applies pending migrations once and returns [] on a second run", async () => {
        const migrations = tableMigrations("once", 2);
        assert.deepEqual(await migrate(db, "contract_once", migrations), [1, 2]);
        assert.deepEqual(await migrate(db, "contract_once", migrations), []);
        assert.deepEqual(await ids(db, "contract_once_1"), [1], "the second run did not repeat the INSERT");
        assert.deepEqual(await appliedVersions(db, "contract_once"), [1, 2]);
      });

      it("applies only the new migration when one is added", async () => {
        await migrate(db, "contract_added", tableMigrations("added", 2));
        assert.deepEqual(await migrate(db, "contract_added", tableMigrations("added", 3)), [3]);
        assert.deepEqual(await ids(db, "contract_added_3"), [1]);
        assert.deepEqual(await appliedVersions(db, "contract_added"), [1, 2, 3]);
      });

      it("keeps a dollar-quoted function body, semicolons and all, in one statement", async () => {
        const body = "\nBEGIN\n  INSERT INTO contract_fn_log VALUES (n);\n  RETURN n * 2;\nEND;\n";
        const sql = `CREATE TABLE contract_fn_log (n int);\nCREATE FUNCTION contract_fn_double(n int) RETURNS int LANGUAGE plpgsql AS $fn$${body}$fn$;\nSELECT 1;\n`;
        assert.deepEqual(await migrate(db, "contract_fn", [{ version: 1, name: "a function", sql }]), [1]);
        const { rows } = await db.query<{ doubled: number }>("SELECT contract_fn_double(21) AS doubled");
        assert.deepEqual(rows, [{ doubled: 42 }]);
        assert.deepEqual((await db.query("SELECT n FROM contract_fn_log")).rows, [{ n: 21 }]);
      });

      it("rejects a gap in the numbering before applying anything", async () => {
        const [first, , third] = tableMigrations("gap", 3);
        await assert.rejects(migrate(db, "contract_gap", [first!, third!]), /without gaps/);
        const table = await db.query<{ t: unknown }>("SELECT to_regclass('contract_gap_1')::text AS t");
        assert.deepEqual(table.rows, [{ t: null }]);
      });

      it("applies each version exactly once when two migrate calls race on a fresh database", async () => {
        // A database of its own, so the race also covers creating schema_migrations.
        const fresh = await open();
        try {
          const migrations = tableMigrations("race", 3);
          const results = await Promise.all([migrate(fresh.db, "contract_race", migrations), migrate(fresh.db, "contract_race", migrations)]);
          assert.deepEqual(
            results.flat().sort((a, b) => a - b),
            [1, 2, 3],
          );
          const counts = await fresh.db.query<{ version: number; times: number }>(
            `SELECT version, count(*)::int AS times FROM schema_migrations
             WHERE component = 'contract_race' GROUP BY version ORDER BY version`,
          );
          assert.deepEqual(
            counts.rows,
            [1, 2, 3].map((version) => ({ version, times: 1 })),
          );
        } finally {
          await fresh.cleanup();
        }
      });
    });
  });
}

/**
 * Migrations 1..count, each creating `contract_<tag>_<version>` and inserting
 * one row, in two statements: applying one twice fails or shows as a second row.
 */
function tableMigrations(tag: string, count: number): Migration[] {
  return Array.from({ length: count }, (_, index) => {
    const table = `contract_${tag}_${index + 1}`;
    return {
      version: index + 1,
      name: `create ${table}`,
      sql: `CREATE TABLE ${table} (id int PRIMARY KEY);\nINSERT INTO ${table} VALUES (1);\n`,
    };
  });
}

async function ids(db: Db, table: string): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`);
  return rows.map((row) => row.id);
}

async function appliedVersions(db: Db, component: string): Promise<number[]> {
  const { rows } = await db.query<{ version: number }>("SELECT version FROM schema_migrations WHERE component = $1 ORDER BY version", [component]);
  return rows.map((row) => row.version);
}
