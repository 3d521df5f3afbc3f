import type { Db } from "@parley/relational";
import { TurnBatch } from "@parley/runtime";

/** Most keys one statement names. */
const KEYS_PER_QUERY = 1_000;
/** Statements of each kind out at once; what is asked meanwhile waits and goes together. */
const QUERIES_IN_FLIGHT = 4;

/**
 * The two reads every connecting device costs (its cursor, its user's
 * head; the head again for its first sync), asked in one statement per
 * event-loop turn rather than one each: when a gateway's clients all arrive
 * at once, chat's and Postgres's cost is mostly the fixed cost of a
 * statement (a round trip, two system calls each side), not its rows.
 */
export class TurnReads {
  private readonly heads = new TurnBatch<bigint, bigint>((userIds) => this.readHeads(userIds), KEYS_PER_QUERY, QUERIES_IN_FLIGHT);
  private readonly cursors = new TurnBatch<readonly [bigint, bigint], bigint>((keys) => this.readCursors(keys), KEYS_PER_QUERY, QUERIES_IN_FLIGHT);

  constructor(private readonly db: Db) {}

  /** The user's newest inbox seq (0 when none). */
  headSeq(userId: bigint): Promise<bigint> {
    return this.heads.ask(userId);
  }

  /** The device's cursor (0 when none). */
  cursor(userId: bigint, deviceId: bigint): Promise<bigint> {
    return this.cursors.ask([userId, deviceId]);
  }

  private async readHeads(userIds: bigint[]): Promise<bigint[]> {
    const { rows } = await this.db.query<{ user_id: string; head_seq: string }>("SELECT user_id, head_seq FROM inbox_heads WHERE user_id = ANY($1::bigint[])", [
      [...new Set(userIds)].map(String),
    ]);
    const heads = new Map(rows.map((row) => [BigInt(row.user_id), BigInt(row.head_seq)]));
    return userIds.map((userId) => heads.get(userId) ?? 0n);
  }

  private async readCursors(keys: (readonly [bigint, bigint])[]): Promise<bigint[]> {
    const { rows } = await this.db.query<{ user_id: string; device_id: string; seq: string }>(
      `SELECT d.user_id, d.device_id, d.seq
       FROM device_cursors d JOIN unnest($1::bigint[], $2::bigint[]) AS k(user_id, device_id) USING (user_id, device_id)`,
      [keys.map(([userId]) => String(userId)), keys.map(([, deviceId]) => String(deviceId))],
    );
    const seqs = new Map(rows.map((row) => [`${row.user_id}:${row.device_id}`, BigInt(row.seq)]));
    return keys.map(([userId, deviceId]) => seqs.get(`${userId}:${deviceId}`) ?? 0n);
  }
}
