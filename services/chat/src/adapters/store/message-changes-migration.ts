import type { Migration } from "@parley/relational";

/**
 * Chat migration 5: edits and deletions. messages.edited_at is the last
 * edit; messages.deleted_at marks a deletion for everyone, whose text is
 * overwritten with '' (erased, not hidden: no column keeps it). hidden_messages
 * records deletions for one user only (their history leaves them out; their
 * inbox reads show them deleted). New inbox kinds: 3 edited, 4 deleted for
 * everyone, 5 deleted for the user; their entries point at the message like
 * kind 1 does, and are read with its current state. Both new columns are
 * nullable without a default, so adding them rewrites nothing and the send
 * path's statements are unchanged.
 */
export const messageChangesMigration: Migration = {
  version: 5,
  name: "message edits and deletions: edited_at, deleted_at, hidden_messages",
  sql: `
ALTER TABLE messages ADD COLUMN edited_at timestamptz, ADD COLUMN deleted_at timestamptz;
CREATE TABLE hidden_messages (
  user_id bigint NOT NULL,
  conversation_id bigint NOT NULL,
  message_id bigint NOT NULL,
  hidden_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, conversation_id, message_id)
);
`,
};
