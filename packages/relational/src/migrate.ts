import type { Db } from "./port.js";

/** One schema change. Versions start at 1 and never change once released. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Applies the migrations of one component (such as "account") that the
 * database has not seen yet, in version order, each in its own transaction.
 * An advisory lock makes concurrent starts on one database take turns, so
 * two instances never apply the same migration. Returns the versions applied.
 */
export async function migrate(db: Db, component: string, migrations: readonly Migration[]): Promise<number[]> {
  checkSequence(component, migrations);
  await db
    .query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component text NOT NULL,
    version integer NOT NULL,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version))`)
    .catch(async (err: unknown) => {
      // Two processes may race to create the table; the loser sees a duplicate.
      const exists = await db.query("SELECT to_regclass('schema_migrations') AS t");
      if (exists.rows[0]?.t === null) throw err;
    });
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    const done = await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley.migrate.' || $1))", [component]);
      const seen = await tx.query("SELECT 1 FROM schema_migrations WHERE component = $1 AND version = $2", [component, migration.version]);
      if (seen.rowCount > 0) return false;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)", [component, migration.version, migration.name]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}

function checkSequence(component: string, migrations: readonly Migration[]): void {
  const versions = migrations.map((m) => m.version).sort((a, b) => a - b);
  versions.forEach((version, index) => {
    if (version !== index + 1) throw new Error(`${component} migrations must be numbered 1, 2, 3... without gaps`);
  });
}

/**
 * Splits a migration on semicolons at line ends; migrations keep one
 * statement per `;\n`. Dollar-quoted text (`$$ ... $$`, `$body$ ... $body$`:
 * function bodies) is kept whole, so a PL/pgSQL function's own statements
 * stay inside its CREATE FUNCTION.
 */
function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  const boundary = /\$([A-Za-z_][A-Za-z0-9_]*)?\$|;\s*\n/g;
  let start = 0;
  for (let match = boundary.exec(sql); match !== null; match = boundary.exec(sql)) {
    if (match[0].startsWith("$")) {
      const close = sql.indexOf(match[0], boundary.lastIndex);
      if (close < 0) throw new Error(`migration has an unterminated ${match[0]} quote`);
      boundary.lastIndex = close + match[0].length;
    } else {
      statements.push(sql.slice(start, match.index));
      start = boundary.lastIndex;
    }
  }
  statements.push(sql.slice(start));
  return statements.map((s) => s.trim().replace(/;$/, "")).filter((s) => s.length > 0);
}
