/**
 * The SQLite worker: owns the database connection and runs procedures, one
 * at a time, each in a transaction of its own. SQLite is synchronous, so it
 * runs here and never on the thread that serves sockets.
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
// a busy timeout covers another process (a backup tool, the sqlite3 shell) holding the file;
// a 32 MiB page cache (the default is 2 MiB) keeps inboxes and heads of active users in memory.
raw.exec(
  `PRAGMA journal_mode = WAL; PRAGMA synchronous = ${settings.synchronous.toUpperCase()}; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -32768;`,
);
const connection = new SqliteConnection(raw);
const builtins: ProcedureModule = { applyMigrations };
const modules = new Map<string, Promise<ProcedureModule>>();

parentPort!.on("message", (request: CallRequest | "close") => {
  if (request === "close") {
    // After the calls already received: their replies go out first.
    chain = chain.then(() => {
      raw.close();
      parentPort!.close();
    });
    return;
  }
  void handle(request).then((reply) => parentPort!.postMessage(reply));
});

// Calls are answered in order, one transaction at a time: a module's first load is awaited
// in a chain so a later call never overtakes an earlier one.
let chain: Promise<unknown> = Promise.resolve();

function handle(request: CallRequest): Promise<CallReply> {
  const reply = chain.then(async () => {
    try {
      const module = request.module === "" ? builtins : await load(request.module);
      const procedure = module[request.name];
      if (typeof procedure !== "function") throw new Error(`${request.module || "engine"} has no procedure ${request.name}`);
      return { id: request.id, ok: true, value: inTransaction(() => procedure(connection, ...request.args)) } satisfies CallReply;
    } catch (err) {
      return { id: request.id, ok: false, error: serialize(err) } satisfies CallReply;
    }
  });
  chain = reply;
  return reply;
}

function load(url: string): Promise<ProcedureModule> {
  let module = modules.get(url);
  if (module === undefined) {
    module = import(url) as Promise<ProcedureModule>;
    modules.set(url, module);
  }
  return module;
}

function inTransaction(fn: () => unknown): unknown {
  raw.exec("BEGIN IMMEDIATE");
  try {
    const value = fn();
    raw.exec("COMMIT");
    return value;
  } catch (err) {
    if (raw.isTransaction) raw.exec("ROLLBACK");
    throw err;
  }
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
