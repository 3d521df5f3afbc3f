import { readFileSync, unwatchFile, watchFile, type Stats } from "node:fs";
import type { Logger } from "./logger.js";

/**
 * A file read at start and again whenever it changes, so credentials
 * (keys, certificates, trust lists) rotate without a restart. A bad file at
 * start throws (the process refuses to start, naming the file); a bad file
 * later is logged and the last good content stays in use, so a half-written
 * update never takes a service down.
 *
 * Changes are noticed by polling the file's status (fs.watchFile), which
 * also sees Kubernetes' symlink swaps of mounted Secrets and ConfigMaps
 * that inotify-based watches miss.
 */
export class WatchedFile<T> {
  #value: T;
  readonly #listeners = new Set<(value: T) => void>();
  readonly #onStat: (current: Stats, previous: Stats) => void;

  constructor(
    readonly path: string,
    private readonly parse: (content: Buffer) => T,
    private readonly logger: Logger,
    intervalMs: number,
  ) {
    this.#value = this.#read();
    this.#onStat = (current, previous) => {
      if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
      this.reload();
    };
    watchFile(path, { interval: intervalMs, persistent: false }, this.#onStat);
  }

  get value(): T {
    return this.#value;
  }

  /** Called with the new content after each successful reload. */
  onChange(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads the file now; keeps the last good content when it cannot be read or parsed. */
  reload(): boolean {
    try {
      this.#value = this.#read();
    } catch (err) {
      this.logger.error({ file: this.path, reason: (err as Error).message }, "reloading a credentials file failed; keeping the last good one");
      return false;
    }
    this.logger.info({ file: this.path }, "credentials file reloaded");
    for (const listener of this.#listeners) listener(this.#value);
    return true;
  }

  close(): void {
    unwatchFile(this.path, this.#onStat);
    this.#listeners.clear();
  }

  #read(): T {
    let content: Buffer;
    try {
      content = readFileSync(this.path);
    } catch (err) {
      throw new Error(`cannot read ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      return this.parse(content);
    } catch (err) {
      throw new Error(`${this.path}: ${(err as Error).message}`);
    }
  }
}
