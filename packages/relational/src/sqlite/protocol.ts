/** The messages between the engine (main thread) and its worker. */

export interface WorkerSettings {
  /** A file path, or ":memory:". */
  path: string;
  /** PRAGMA synchronous: FULL syncs every commit to disk; NORMAL survives a process crash but may lose the last commits on power loss (SQLite's advice for WAL). */
  synchronous: "full" | "normal";
  /**
   * One Int32 shared with the checkpointer, which sets it to 1 when the log
   * should start again; the worker restarts the log before its next round and
   * sets it back to 0 (checkpointer.ts says why). Absent for ":memory:".
   */
  restartLog?: SharedArrayBuffer;
}

export interface CallRequest {
  id: number;
  /** A module URL whose exports are procedures; "" for the engine's own (migrations). */
  module: string;
  name: string;
  args: unknown[];
}

export type CallReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  /** node:sqlite's fields: code ERR_SQLITE_ERROR, errcode (the extended result code), errstr. */
  code?: string;
  errcode?: number;
  errstr?: string;
}
