import type { Migration } from "@parley/relational";

/**
 * Chat migration 3: parley_append_batch, the Postgres group commit in one
 * statement. SqlMessageStore.appendBatch calls it with one query outside an
 * explicit transaction, so the whole batch is one round trip and commits or
 * fails as a whole; the statements below would otherwise each be a round trip
 * from Node.
 *
 * Input: one array per message field, message i at index i (1-based). Output:
 * one row per message, in input order, with `outcome`:
 * - stored: written; user_ids and seqs are its inbox entries (ascending
 *   user id), sender_seq the sender's own seq (0 when not a recipient).
 * - duplicate: (sender, client id) was stored before the batch; the message
 *   columns and sender_seq are the original's.
 * - repeat: the same (sender, client id) came earlier in the batch, at
 *   first_ord; the caller answers it with that message's outcome.
 * - missing / not_member: refused; the message gave its claim back.
 * - lost: the claim exists but its message does not (never expected).
 *
 * Locks follow the order every writer takes them, so batches and single
 * appends never wait on each other in a cycle: claims in (sender, client id)
 * order, then conversation rows in id order, then inbox heads in user id
 * order. Members are read after the conversation lock, so they are the
 * members at commit (membership changes lock the conversation first). Each
 * user's head moves once by their number of entries, and a failure rolls the
 * move back, so seqs stay gap-free; the entries take the seqs in batch order.
 * Only stored messages move a conversation's activity. The function is
 * VOLATILE (the default), so each statement in it sees what committed before
 * it ran, as separate statements in a READ COMMITTED transaction would: a
 * claim found taken after waiting on a concurrent sender is read back with
 * its stored message.
 */
export const appendBatchMigration: Migration = {
  version: 3,
  name: "parley_append_batch: the group commit as one statement",
  sql: `
CREATE FUNCTION parley_append_batch(
  p_sender_ids bigint[], p_client_msg_ids text[], p_conversation_ids bigint[], p_message_ids bigint[],
  p_sender_device_ids bigint[], p_texts text[], p_created_ats timestamptz[])
RETURNS TABLE (
  outcome text, first_ord integer, sender_seq bigint, user_ids bigint[], seqs bigint[],
  conversation_id bigint, message_id bigint, sender_id bigint, sender_device_id bigint,
  client_msg_id text, text text, system bytea, created_at timestamptz)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  n integer := coalesce(cardinality(p_message_ids), 0);
  first_of integer[];
  kinds text[];
  locked bigint[];
  entry_ords integer[];
  entry_users bigint[];
  entry_seqs bigint[];
BEGIN
  IF n = 0 THEN
    RETURN;
  END IF;
  IF coalesce(cardinality(p_sender_ids), 0) <> n OR coalesce(cardinality(p_client_msg_ids), 0) <> n
     OR coalesce(cardinality(p_conversation_ids), 0) <> n OR coalesce(cardinality(p_sender_device_ids), 0) <> n
     OR coalesce(cardinality(p_texts), 0) <> n OR coalesce(cardinality(p_created_ats), 0) <> n THEN
    RAISE EXCEPTION 'parley_append_batch: the input arrays differ in length';
  END IF;

  first_of := ARRAY(
    SELECT CASE WHEN t.c = '' THEN t.o ELSE min(t.o) OVER (PARTITION BY t.s, t.c) END::integer
    FROM unnest(p_sender_ids, p_client_msg_ids) WITH ORDINALITY AS t(s, c, o)
    ORDER BY t.o);

  WITH input AS (
    SELECT t.s, t.c, t.cv, t.m, t.o::integer AS o, first_of[t.o] = t.o AS fresh
    FROM unnest(p_sender_ids, p_client_msg_ids, p_conversation_ids, p_message_ids) WITH ORDINALITY AS t(s, c, cv, m, o)),
  claimed AS (
    INSERT INTO sent_messages (sender_id, client_msg_id, conversation_id, message_id)
    SELECT i.s, i.c, i.cv, i.m FROM input i WHERE i.fresh AND i.c <> '' ORDER BY i.s, i.c
    ON CONFLICT (sender_id, client_msg_id) DO NOTHING
    RETURNING sent_messages.sender_id, sent_messages.client_msg_id)
  SELECT array_agg(CASE WHEN NOT i.fresh THEN 'repeat' WHEN i.c = '' OR k.sender_id IS NOT NULL THEN 'live' ELSE 'taken' END ORDER BY i.o)
  INTO kinds
  FROM input i LEFT JOIN claimed k ON i.fresh AND k.sender_id = i.s AND k.client_msg_id = i.c;

  SELECT coalesce(array_agg(l.id), '{}') INTO locked FROM (
    SELECT c.id FROM conversations c
    WHERE c.id IN (SELECT t.cv FROM unnest(kinds, p_conversation_ids) AS t(k, cv) WHERE t.k = 'live')
    ORDER BY c.id FOR UPDATE) l;

  kinds := ARRAY(
    SELECT CASE
      WHEN t.k <> 'live' THEN t.k
      WHEN l.id IS NULL THEN 'missing'
      WHEN NOT EXISTS (SELECT 1 FROM conversation_members cm WHERE cm.conversation_id = t.cv AND cm.user_id = t.s) THEN 'not_member'
      ELSE 'stored' END
    FROM unnest(kinds, p_conversation_ids, p_sender_ids) WITH ORDINALITY AS t(k, cv, s, o)
    LEFT JOIN unnest(locked) AS l(id) ON l.id = t.cv
    ORDER BY t.o);

  DELETE FROM sent_messages sm USING unnest(kinds, p_sender_ids, p_client_msg_ids) AS t(k, s, c)
  WHERE t.k IN ('missing', 'not_member') AND t.c <> '' AND sm.sender_id = t.s AND sm.client_msg_id = t.c;

  UPDATE conversations c SET last_activity_id = GREATEST(c.last_activity_id, a.newest)
  FROM (SELECT t.cv, max(t.m) AS newest FROM unnest(kinds, p_conversation_ids, p_message_ids) AS t(k, cv, m)
        WHERE t.k = 'stored' GROUP BY t.cv) a
  WHERE c.id = a.cv;

  WITH entries AS (
    SELECT t.o::integer AS o, cm.user_id AS u, t.cv, t.m,
      row_number() OVER (PARTITION BY cm.user_id ORDER BY t.o) AS nth,
      count(*) OVER (PARTITION BY cm.user_id) AS per_user
    FROM unnest(kinds, p_conversation_ids, p_message_ids) WITH ORDINALITY AS t(k, cv, m, o)
    JOIN conversation_members cm ON cm.conversation_id = t.cv
    WHERE t.k = 'stored'),
  heads AS (
    INSERT INTO inbox_heads AS h (user_id, head_seq)
    SELECT e.u, count(*) FROM entries e GROUP BY e.u ORDER BY e.u
    ON CONFLICT (user_id) DO UPDATE SET head_seq = h.head_seq + EXCLUDED.head_seq
    RETURNING h.user_id, h.head_seq),
  numbered AS (
    SELECT e.o, e.u, e.cv, e.m, h.head_seq - e.per_user + e.nth AS seq FROM entries e JOIN heads h ON h.user_id = e.u),
  written AS (
    INSERT INTO inbox (user_id, seq, kind, conversation_id, message_id)
    SELECT w.u, w.seq, 1, w.cv, w.m FROM numbered w)
  SELECT array_agg(w.o ORDER BY w.o, w.u), array_agg(w.u ORDER BY w.o, w.u), array_agg(w.seq ORDER BY w.o, w.u)
  INTO entry_ords, entry_users, entry_seqs
  FROM numbered w;

  INSERT INTO messages (conversation_id, message_id, sender_id, sender_device_id, client_msg_id, text, created_at)
  SELECT t.cv, t.m, t.s, t.d, t.c, t.x, t.ts
  FROM unnest(kinds, p_conversation_ids, p_message_ids, p_sender_ids, p_sender_device_ids, p_client_msg_ids, p_texts, p_created_ats)
    AS t(k, cv, m, s, d, c, x, ts)
  WHERE t.k = 'stored';

  UPDATE sent_messages sm SET sender_seq = e.seq
  FROM unnest(entry_ords, entry_users, entry_seqs) AS e(o, u, seq)
  WHERE e.u = p_sender_ids[e.o] AND p_client_msg_ids[e.o] <> ''
    AND sm.sender_id = e.u AND sm.client_msg_id = p_client_msg_ids[e.o];

  RETURN QUERY
  SELECT
    CASE WHEN x.k <> 'taken' THEN x.k WHEN om.message_id IS NULL THEN 'lost' ELSE 'duplicate' END,
    x.f,
    CASE WHEN x.k = 'taken' THEN os.sender_seq ELSE coalesce(g.own, 0) END,
    g.users, g.seqs,
    om.conversation_id, om.message_id, om.sender_id, om.sender_device_id, om.client_msg_id, om.text, om.system, om.created_at
  FROM unnest(kinds, first_of) WITH ORDINALITY AS x(k, f, o)
  LEFT JOIN (
    SELECT e.o, array_agg(e.u ORDER BY e.u) AS users, array_agg(e.seq ORDER BY e.u) AS seqs,
      max(e.seq) FILTER (WHERE e.u = p_sender_ids[e.o]) AS own
    FROM unnest(entry_ords, entry_users, entry_seqs) AS e(o, u, seq) GROUP BY e.o) g ON g.o = x.o
  LEFT JOIN sent_messages os ON x.k = 'taken' AND os.sender_id = p_sender_ids[x.o] AND os.client_msg_id = p_client_msg_ids[x.o]
  LEFT JOIN messages om ON om.conversation_id = os.conversation_id AND om.message_id = os.message_id
  ORDER BY x.o;
END
$fn$;
`,
};
