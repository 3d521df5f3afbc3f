/**
 * The SQLite worker: owns the database connection and runs procedures one
 * at a time, in rounds that share a transaction (group commit). SQLite is
 * synchronous, so it runs here and never on the thread that serves sockets.
 */
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";
import { SqliteConnection } from "./connection.js";
import { applyMigrations } from "./migrations.js";
import type { CallReply, CallRequest, SerializedError, WorkerSettings } from "./protocol.js";

type ProcedureModule = Record<string, unknown>;

const settings = workerData as WorkerSettings;
const raw = new DatabaseSync(settings.path);
// WAL makes a commit one append to the log (and lets a backup read while Parley writes);
// the log is copied back by the checkpointer thread, never inside a commit (wal_autocheckpoint 0);
// a busy timeout covers another process (a backup tool, the sqlite3 shell) holding the file;
// an 8 MiB page cache (the default is 2 MiB) keeps the pages of active users in memory; it is held for good once filled, so it stays small.
// temp_store MEMORY: statement journals (a statement's own, and the savepoints of a round run again after a failure) stay in memory; on disk each created, wrote and unlinked a file.
// journal_size_limit: when the log starts again (see the checkpointer), a log grown past 64 MiB (a burst, a checkpointer that could not keep up) is cut back to it.
raw.exec(
  `PRAGMA journal_mode = WAL; PRAGMA synchronous = ${settings.synchronous.toUpperCase()}; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -8192; PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = 67108864;`,
);
const connection = new SqliteConnection(raw);
// ping: answers once the worker has run a round, which is all a readiness check asks of it.
const builtins: ProcedureModule = { applyMigrations, ping: () => true };
const modules = new Map<string, Promise<ProcedureModule>>();

// Prepared once: exec() would parse them again every round.
const begin = raw.prepare("BEGIN IMMEDIATE");
const commit = raw.prepare("COMMIT");
const rollback = raw.prepare("ROLLBACK");
const savepoint = raw.prepare("SAVEPOINT call");
const release = raw.prepare("RELEASE call");
const rollbackTo = raw.prepare("ROLLBACK TO call");
const restartCheckpoint = raw.prepare("PRAGMA wal_checkpoint(RESTART)");
const busyFailsAtOnce = raw.prepare("PRAGMA busy_timeout = 0");
const busyWaits = raw.prepare("PRAGMA busy_timeout = 5000");
const restartAsked = settings.restartLog === undefined ? undefined : new Int32Array(settings.restartLog);

/**
 * Group commit: the calls that arrived while the previous round ran (its
 * commit waits for the disk) run as the next round, in arrival order, in
 * one transaction with one commit, and a call that throws undoes only its
 * own writes (see runRound). Replies go out after the
 * commit, so no caller hears of a write before it is durable.
 */
const queue: CallRequest[] = [];
let draining = false;
let closing = false;

parentPort!.on("message", (message: CallRequest[] | "close") => {
  if (message === "close") closing = true;
  else queue.push(...message);
  if (!draining) {
    draining = true;
    void drain();
  }
});

async function drain(): Promise<void> {
  while (queue.length > 0) {
    restartLogIfAsked();
    const round = queue.splice(0);
    const procedures = await Promise.all(round.map(resolveProcedure));
    send(runRound(round, procedures));
  }
  draining = false;
  if (closing) {
    raw.close();
    parentPort!.close();
  }
}

/**
 * Starts the log again when the checkpointer asks (checkpointer.ts says
 * why). Between rounds this thread holds no lock, so the restart cannot be
 * starved by commits, as it was from the checkpointer's thread under writes
 * that never paused. It copies only what the checkpointer's passive
 * checkpoint left (the commits since it ended) and syncs the file: the round
 * waits for that, once per WAL_RESTART_FRAMES frames written. It does not
 * wait for another process's reader (a backup) to leave the log: it gives up
 * at once, and the checkpointer asks again later.
 */
function restartLogIfAsked(): void {
  if (restartAsked === undefined || Atomics.load(restartAsked, 0) === 0) return;
  busyFailsAtOnce.get();
  try {
    restartCheckpoint.get();
  } catch {
    // An I/O error: the log grows until the checkpointer asks again.
  } finally {
    busyWaits.get();
  }
  Atomics.store(restartAsked, 0, 0);
}

/** Replies of a round in one message; a reply that cannot be cloned (a procedure returned a function) fails alone. */
function send(replies: CallReply[]): void {
  try {
    parentPort!.postMessage(replies);
  } catch {
    parentPort!.postMessage(
      replies.map((reply): CallReply => {
        try {
          structuredClone(reply);
          return reply;
        } catch (err) {
          return { id: reply.id, ok: false, error: serialize(err) };
        }
      }),
    );
  }
}

type Resolved = { procedure: (...args: unknown[]) => unknown } | { error: unknown };

async function resolveProcedure(request: CallRequest): Promise<Resolved> {
  try {
    const module = request.module === "" ? builtins : await load(request.module);
    const procedure = module[request.name];
    if (typeof procedure !== "function") throw new Error(`${request.module || "engine"} has no procedure ${request.name}`);
    return { procedure: procedure as (...args: unknown[]) => unknown };
  } catch (error) {
    return { error };
  }
}

/**
 * Runs a round in one transaction. Its calls run first without a savepoint
 * each: a savepoint costs a call two more statements and a copy of every
 * page it changes (SQLite's statement journal), about a tenth of this
 * thread's time at saturation. When a call throws, the round is rolled back
 * whole and run again with each call in a savepoint of its own, so the
 * failing call undoes only its own writes. A procedure is a function of the
 * database and its arguments, so the others get the same results the second
 * time; only the second run's writes are kept.
 */
function runRound(round: CallRequest[], procedures: Resolved[]): CallReply[] {
  try {
    begin.run();
    let replies = runCalls(round, procedures, false);
    if (replies === undefined) {
      rollback.run();
      begin.run();
      replies = runCalls(round, procedures, true) ?? [];
    }
    commit.run();
    return replies;
  } catch (err) {
    // The transaction itself failed (the disk is full, the file is gone): nothing of the round was kept.
    if (raw.isTransaction) raw.exec("ROLLBACK");
    return round.map((request) => ({ id: request.id, ok: false, error: serialize(err) }));
  }
}

/** The round's replies; undefined when a call threw and the calls were not `isolated` (each in a savepoint), as the round must run again. */
function runCalls(round: CallRequest[], procedures: Resolved[], isolated: boolean): CallReply[] | undefined {
  const replies: CallReply[] = [];
  for (let i = 0; i < round.length; i++) {
    const request = round[i]!;
    const resolved = procedures[i]!;
    if ("error" in resolved) {
      replies.push({ id: request.id, ok: false, error: serialize(resolved.error) });
      continue;
    }
    if (isolated) savepoint.run();
    let value: unknown;
    try {
      value = resolved.procedure(connection, ...request.args);
    } catch (err) {
      // SQLite ended the transaction itself (a full disk, an I/O error): nothing of the round is kept, and the cause is this error.
      if (!raw.isTransaction) throw err;
      if (!isolated) return undefined;
      rollbackTo.run();
      release.run();
      replies.push({ id: request.id, ok: false, error: serialize(err) });
      continue;
    }
    if (isolated) release.run();
    replies.push({ id: request.id, ok: true, value });
  }
  return replies;
}

function load(url: string): Promise<ProcedureModule> {
  let module = modules.get(url);
  if (module === undefined) {
    module = import(url) as Promise<ProcedureModule>;
    modules.set(url, module);
  }
  return module;
}

function serialize(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: "Error", message: String(err) };
  const fields = err as Error & { code?: unknown; errcode?: unknown; errstr?: unknown };
  return {
    name: err.name,
    message: err.message,
    ...(typeof fields.code === "string" ? { code: fields.code } : {}),
    ...(typeof fields.errcode === "number" ? { errcode: fields.errcode } : {}),
    ...(typeof fields.errstr === "string" ? { errstr: fields.errstr } : {}),
  };
}
