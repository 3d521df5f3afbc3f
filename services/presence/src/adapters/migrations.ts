import type { Migration } from "@parley/relational";

/** The presence schema (component "presence"). Released migrations never change; add new ones. */
export const presenceMigrations: Migration[] = [
  {
    version: 1,
    name: "last_seen",
    sql: `
CREATE TABLE last_seen (
  user_id bigint PRIMARY KEY,
  last_active_at timestamptz NOT NULL
);
`,
  },
];
