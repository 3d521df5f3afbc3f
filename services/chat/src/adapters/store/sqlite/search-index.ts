/**
 * The search index's deferred half (worker side). A send pays only for its
 * messages' rowids in messages_search_pending (the insert trigger, migration
 * 5): an FTS5 insert costs little, but FTS5 flushes a segment at every
 * commit however few rows it holds, which measured about 65 µs of CPU per
 * one-message transaction on a WAL file against about 10 µs for the pending
 * row. indexPending moves the pending rows into messages_search in one
 * statement; it runs first in every search call (so a search sees every
 * acknowledged message and edit: nothing is ever eventually consistent) and
 * in a send transaction once this worker has stored INDEX_BATCH messages
 * since the last move, so the pending table stays small and the move cheap.
 * Edits and deletions of rows still pending leave the index alone (the
 * move reads the text as it is then); see the triggers.
 */
import type { SqliteConnection } from "@parley/relational";

/** Messages stored between two moves into the index by the send path. */
export const INDEX_BATCH = 256;

let storedSinceMove = 0;

/** Moves every pending row into the FTS5 index. */
export function indexPending(db: SqliteConnection): void {
  db.run(
    `INSERT INTO messages_search (rowid, text)
     SELECT m.rowid, m.text FROM messages_search_pending p JOIN messages m ON m.rowid = p.message_rowid ORDER BY p.message_rowid`,
  );
  db.run("DELETE FROM messages_search_pending");
  storedSinceMove = 0;
}

/** Called by the send procedures with how many messages they stored: every INDEX_BATCH, the pending rows move. */
export function noteStored(db: SqliteConnection, count: number): void {
  storedSinceMove += count;
  if (storedSinceMove >= INDEX_BATCH) indexPending(db);
}
