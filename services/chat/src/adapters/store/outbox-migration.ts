import type { Migration } from "@parley/relational";

/**
 * Chat migration 4: the delivery outbox. Every inbox entry gets an outbox
 * row in the transaction that writes it (a statement trigger on inbox, so
 * every path that writes entries is covered: sends, batches, receipts,
 * group system messages). The chat process that stored the entry deletes
 * the row once it has handed the entry on; a row still there a while later
 * belongs to a process that died in between, and any chat process claims it
 * and delivers the entry again (at least once: devices drop an entry they
 * already have by seq). claimed_at is when the row was written or last
 * claimed. No index besides the key: rows live for milliseconds, so the
 * table stays small and the overdue scan reads all of it.
 */
export const outboxMigration: Migration = {
  version: 4,
  name: "delivery outbox: every inbox entry until a chat process has handed it on",
  sql: `
CREATE TABLE delivery_outbox (
  user_id bigint NOT NULL,
  seq bigint NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, seq)
);
CREATE FUNCTION parley_outbox_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO delivery_outbox (user_id, seq) SELECT user_id, seq FROM new_entries;
  RETURN NULL;
END
$$;
CREATE TRIGGER inbox_entries_to_outbox AFTER INSERT ON inbox
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION parley_outbox_entries();
`,
};
