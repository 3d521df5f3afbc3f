import type { Migration } from "@parley/relational";

/**
 * Chat migration 7: reactions, replies and mentions.
 * messages.reply_to_message_id is the message of the same conversation a
 * reply quotes, messages.mentioned_user_ids the members a message mentions
 * (both nullable, no default: the send path's statements are unchanged;
 * only the INSERT of a reply or of a message with mentions names them).
 * Reactions: message_reactions holds one row per user and
 * emoji on a message (its key makes adding twice a no-op); new inbox kinds 6
 * (reaction added) and 7 (removed) point at the message like kind 1 and
 * carry who reacted, the emoji and when in three new inbox columns (the read
 * columns are kept for reads by the table's CHECK). All nullable without a
 * default: adding them rewrites nothing, and the send path's statements are
 * unchanged.
 */
export const reactionsRepliesMigration: Migration = {
  version: 7,
  name: "reactions, replies, mentions: message_reactions, reaction inbox entries, messages.reply_to_message_id and mentioned_user_ids",
  sql: `
CREATE TABLE message_reactions (
  conversation_id bigint NOT NULL,
  message_id bigint NOT NULL,
  user_id bigint NOT NULL,
  emoji text NOT NULL,
  reacted_at timestamptz NOT NULL,
  PRIMARY KEY (conversation_id, message_id, user_id, emoji)
);
ALTER TABLE inbox ADD COLUMN actor_id bigint, ADD COLUMN emoji text, ADD COLUMN acted_at timestamptz;
ALTER TABLE messages ADD COLUMN reply_to_message_id bigint, ADD COLUMN mentioned_user_ids bigint[];
`,
};
