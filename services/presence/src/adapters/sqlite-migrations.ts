import type { Migration } from "@parley/relational";

/**
 * The presence schema on SQLite (component "presence"): presenceMigrations'
 * table in SQLite's terms, the time as INTEGER milliseconds since the epoch.
 * The user id is the rowid, so a lookup is one b-tree search.
 * Released migrations never change; add new ones.
 */
export const presenceSqliteMigrations: Migration[] = [
  {
    version: 1,
    name: "last_seen",
    sql: `
CREATE TABLE last_seen (
  user_id INTEGER PRIMARY KEY,
  last_active_at INTEGER NOT NULL
) STRICT;
`,
  },
];
