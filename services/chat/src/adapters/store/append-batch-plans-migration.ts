import type { Migration } from "@parley/relational";

/**
 * Chat migration 8: parley_append_batch plans its statements once per
 * connection. plpgsql prepares each statement and Postgres's plan cache
 * chooses, per call, between a plan for the call's own arrays and one made
 * once for any arrays. The generic plan's estimates (an array parameter
 * counts as a hundred elements) cost it more than the custom one for
 * one-message calls and on large tables, so there the cache planned all ten
 * statements again on every call: planning was about a third of the
 * function's time, and a one-message call cost about 1.2-1.6 ms of Postgres
 * CPU against 0.8-1.0 with plans kept. (On small tables with batches of
 * several messages the cache had chosen the generic plans by itself.)
 *
 * Generic plans were checked on 0.5 million conversations, a million members
 * and two million messages: every table is reached through its key or
 * index. Plans made while tables were small are made again when autovacuum
 * analyzes them (a table's new statistics invalidate the plans that read it).
 */
export const appendBatchPlansMigration: Migration = {
  version: 8,
  name: "parley_append_batch: generic plans, made once per connection",
  sql: `
ALTER FUNCTION parley_append_batch(bigint[], text[], bigint[], bigint[], bigint[], text[], timestamptz[])
  SET plan_cache_mode = force_generic_plan;
`,
};
