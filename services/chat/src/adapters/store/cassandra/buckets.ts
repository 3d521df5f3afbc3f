/**
 * Partition buckets of the Cassandra message store (docs/architecture.md,
 * "Message store on Cassandra"). Both are derived from what a reader already
 * holds: a message's month from its Snowflake id, an inbox bucket from a seq.
 */

/** Snowflake ids carry 41 bits of milliseconds since 2025-01-01 above 22 bits of worker and sequence (services/idgen). */
const SNOWFLAKE_EPOCH_MS = Date.UTC(2025, 0, 1);
const TIME_SHIFT = 22n;

/** Seqs per inbox partition: about 0.5 MB of entries, whatever the user's rate. */
export const INBOX_BUCKET_SIZE = 10_000n;

/** The month of a Snowflake id as yyyymm (202501 for January 2025): the messages partition's second key. */
export function monthOf(id: bigint): number {
  const ms = id <= 0n ? 0 : Number(id >> TIME_SHIFT);
  const date = new Date(SNOWFLAKE_EPOCH_MS + ms);
  return date.getUTCFullYear() * 100 + date.getUTCMonth() + 1;
}

/** The inbox bucket that holds `seq` (seqs start at 1). */
export function inboxBucket(seq: bigint): bigint {
  if (seq < 1n) throw new RangeError(`seq ${seq} is below 1`);
  return (seq - 1n) / INBOX_BUCKET_SIZE;
}

/** The last seq that `bucket` can hold. */
export function lastSeqOf(bucket: bigint): bigint {
  return (bucket + 1n) * INBOX_BUCKET_SIZE;
}
