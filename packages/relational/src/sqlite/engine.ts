import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { InFlight } from "@parley/runtime";
import type { Migration } from "../migrate.js";
import type { DbErrorListener } from "../port.js";
import type { SqliteConnection } from "./connection.js";
import type { CallReply, CallRequest, SerializedError, WorkerSettings } from "./protocol.js";

/** A module of procedures: functions run in the worker with the connection first, inside a transaction. */
type ProcedureOf<F> = F extends (db: SqliteConnection, ...args: infer A) => infer R ? (...args: A) => Promise<R> : never;
export type Procedures<M> = { [K in keyof M as M[K] extends (db: SqliteConnection, ...args: never[]) => unknown ? K : never]: ProcedureOf<M[K]> };

export interface SqliteOptions {
  /** A file (its folder is created), or ":memory:" for a database that ends with the engine. */
  path: string;
  synchronous?: WorkerSettings["synchronous"];
  /** How often the checkpointer copies the log into the file (default 200 ms). */
  checkpointIntervalMs?: number;
  /** From how many frames (pages) in the log the checkpointer asks the writer to start it again (default WAL_RESTART_FRAMES). */
  walRestartFrames?: number;
  /** Told of each failed call ("procedure"). */
  onError?: DbErrorListener;
}

/**
 * The log's size, in frames of one page (4 KiB), at which it is started
 * again (checkpointer.ts says why): 16 MiB, a few hundred milliseconds of
 * writes at full load.
 */
export const WAL_RESTART_FRAMES = 4_096;

/** An error raised in the worker, with SQLite's extended result code when SQLite raised it. */
export class SqliteError extends Error {
  readonly code: string | undefined;
  readonly errcode: number | undefined;
  constructor(serialized: SerializedError) {
    super(serialized.message);
    this.name = serialized.name;
    this.code = serialized.code;
    this.errcode = serialized.errcode;
  }
}

/** SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY. */
export function isSqliteUniqueViolation(err: unknown): boolean {
  return err instanceof SqliteError && (err.errcode === 2067 || err.errcode === 1555);
}

/**
 * The embedded store: SQLite (Node's built-in node:sqlite) in a worker
 * thread. Callers run procedures, synchronous functions of a module loaded
 * in the worker, one at a time and each atomic (one that throws undoes only
 * its own writes). The
 * calls of one turn travel as one message, and the calls that arrive while
 * the worker commits run together as its next round, in one transaction
 * with one commit (group commit: under load, one disk sync serves many
 * calls). A call's reply is sent after its round commits.
 */
export class SqliteEngine {
  /**
   * Calls waiting for their replies. A ring, not a Map: a Map here left
   * old-generation garbage with every call (InFlight says why). The worker
   * answers round by round in the order the calls were made, so the ring's
   * span is the calls in flight.
   */
  private readonly pending = new InFlight<{ resolve(value: unknown): void; reject(err: Error): void }>(256);
  /** Calls made in this turn, posted together at its end (one message, and one round in the worker). */
  private outbox: CallRequest[] = [];
  private closed: Promise<void> | undefined;
  private dead: Error | undefined;
  /** Settles when the writer's thread has ended: after close, or when it died. */
  private readonly exited: Promise<void>;

  /** Copies the log back into the file (absent for a database in memory). */
  private checkpointer: Worker | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly onError: DbErrorListener,
  ) {
    worker.on("message", (replies: CallReply[]) => {
      for (const reply of replies) {
        const call = this.pending.take(reply.id);
        if (call === undefined) continue;
        if (reply.ok) call.resolve(reply.value);
        else this.fail(call, new SqliteError(reply.error));
      }
    });
    worker.on("error", (err) => this.failAll(err));
    this.exited = new Promise((resolve) =>
      worker.once("exit", (code) => {
        this.failAll(new Error(`the SQLite worker exited (code ${code})`));
        resolve();
      }),
    );
  }

  static async open(options: SqliteOptions): Promise<SqliteEngine> {
    if (options.path !== ":memory:") await mkdir(dirname(options.path), { recursive: true });
    const restartLog = options.path === ":memory:" ? undefined : new SharedArrayBuffer(4);
    const settings: WorkerSettings = { path: options.path, synchronous: options.synchronous ?? "normal", ...(restartLog ? { restartLog } : {}) };
    const execArgv = loaderArgs(process.execArgv);
    const worker = new Worker(siblingModule(import.meta.url, "worker"), { workerData: settings, execArgv });
    const engine = new SqliteEngine(worker, options.onError ?? (() => {}));
    // The first call answers once the worker has opened the file, so a bad path fails here.
    await engine.call("", "applyMigrations", ["engine", []]);
    if (options.path === ":memory:") return engine;
    // Started once the writer has set the file to WAL mode.
    engine.checkpointer = new Worker(siblingModule(import.meta.url, "checkpointer"), {
      workerData: {
        path: options.path,
        intervalMs: options.checkpointIntervalMs ?? 200,
        restartFrames: options.walRestartFrames ?? WAL_RESTART_FRAMES,
        restartLog,
      },
      execArgv,
    });
    // A dead checkpointer costs latency and disk, not data: the writer still commits (the log grows).
    engine.checkpointer.on("error", () => {});
    return engine;
  }

  /** The procedures of a module (`new URL("./x.js", import.meta.url)` of the module that exports them). */
  procedures<M>(module: URL): Procedures<M> {
    const url = resolveModule(module);
    return new Proxy({} as Procedures<M>, {
      get: (_, name) => (typeof name === "string" ? (...args: unknown[]) => this.call(url, name, args) : undefined),
    });
  }

  /** Applies a component's migrations not yet applied, in one transaction; returns the versions applied. */
  migrate(component: string, migrations: readonly Migration[]): Promise<number[]> {
    return this.call("", "applyMigrations", [component, migrations]) as Promise<number[]>;
  }

  /** Resolves once the worker answers a call: it is alive and not stuck (a readiness check). */
  async ping(): Promise<void> {
    await this.call("", "ping", []);
  }

  /** Waits for the calls already made, then closes the database and ends the worker. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const checkpointer = this.checkpointer;
      if (checkpointer) {
        const stopped = new Promise((resolve) => checkpointer.once("exit", resolve));
        checkpointer.postMessage("close");
        await stopped;
      }
      // The writer closes last: as the last connection, it checkpoints the log into the file.
      // A writer that died has nothing to close: its exit has come (waiting for another would never end).
      if (this.outbox.length > 0) this.flush();
      this.worker.postMessage("close");
      await this.exited;
    })();
    return this.closed;
  }

  private call(module: string, name: string, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error("the SQLite engine is closed"));
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const id = this.pending.add({ resolve, reject });
      if (this.outbox.push({ id, module, name, args }) === 1) process.nextTick(() => this.flush());
    });
  }

  private flush(): void {
    const calls = this.outbox;
    this.outbox = [];
    try {
      this.worker.postMessage(calls);
    } catch (err) {
      // Arguments that cannot be cloned (a function, a class with private state): those calls fail, the rest go.
      const sendable = calls.filter((call) => {
        try {
          structuredClone(call);
          return true;
        } catch {
          this.pending.take(call.id)?.reject(err instanceof Error ? err : new Error(String(err)));
          return false;
        }
      });
      if (sendable.length > 0) this.worker.postMessage(sendable);
    }
  }

  private failAll(err: Error): void {
    // Calls made after the worker is gone fail at once instead of waiting for a reply that cannot come.
    this.dead ??= err;
    for (const call of this.pending.takeAll()) this.fail(call, err);
  }

  private fail(call: { reject(err: Error): void }, err: Error): void {
    this.onError("procedure", err);
    call.reject(err);
  }
}

/**
 * The worker and procedure modules are loaded by URL: from TypeScript
 * sources (tsx) the file on disk is .ts where the import says .js.
 */
function resolveModule(url: URL): string {
  if (existsSync(url)) return url.href;
  const ts = url.href.replace(/\.js$/, ".ts");
  if (existsSync(new URL(ts))) return ts;
  throw new Error(`no procedure module at ${fileURLToPath(url)}`);
}

/**
 * The worker needs the process's module loaders (tsx when running from
 * sources) and nothing else: the test runner's child processes carry dozens
 * of flags (inspector ports, test isolation) that a worker must not inherit.
 */
function loaderArgs(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (/^--(import|require|loader|experimental-loader|conditions)=/.test(arg)) kept.push(arg);
    else if (/^--(import|require|loader|experimental-loader|conditions)$/.test(arg) && i + 1 < execArgv.length) kept.push(arg, execArgv[++i]!);
  }
  return kept;
}

function siblingModule(from: string, name: string): URL {
  return pathToFileURL(fileURLToPath(new URL(`./${name}${from.endsWith(".ts") ? ".ts" : ".js"}`, from)));
}
