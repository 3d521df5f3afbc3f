import type { Migration } from "@parley/relational";

/**
 * Chat migration 6: full-text search over message text, an expression GIN
 * index on to_tsvector('simple', text). 'simple' lowercases and splits on
 * the default parser's word boundaries with no stemming and no stop words,
 * so it treats every language alike (a language's own configuration would
 * stem one language and mangle the others in a multilingual chat).
 *
 * An expression index rather than a stored generated column: the tsvector
 * is computed once per insert or text update either way, but the heap row
 * of the send path stays as it is (no extra column to write and no table
 * rewrite when migrating), and GIN's pending list (fastupdate, on by
 * default) defers the index's own work to batches. Erased text ('') has no
 * lexemes, so a message deleted for everyone leaves the index. Queries must
 * spell the expression exactly so: to_tsvector('simple', text).
 *
 * IF NOT EXISTS lets an operator of a large table build the same index
 * beforehand with CREATE INDEX CONCURRENTLY (this migration runs in a
 * transaction, where a plain build blocks writes to messages until done).
 */
export const searchIndexMigration: Migration = {
  version: 6,
  name: "message search: a GIN index on to_tsvector('simple', text)",
  sql: `
CREATE INDEX IF NOT EXISTS messages_text_search ON messages USING gin (to_tsvector('simple', text));
`,
};
