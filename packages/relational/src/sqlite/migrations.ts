import type { Migration } from "../migrate.js";
import type { SqliteConnection } from "./connection.js";

/**
 * Applies the migrations of one component that the database has not seen,
 * in version order. It runs as one engine call, so inside one transaction:
 * a crash leaves either all of them or none.
 */
export function applyMigrations(db: SqliteConnection, component: string, migrations: readonly Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (component, version))`);
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (db.get("SELECT 1 FROM schema_migrations WHERE component = ? AND version = ?", [component, migration.version])) continue;
    db.exec(migration.sql);
    db.run("INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)", [
      component,
      migration.version,
      migration.name,
      Date.now(),
    ]);
    applied.push(migration.version);
  }
  return applied;
}
