import type { IWatchResponse, Watcher } from "etcd3";
import { backoffDelayMs, type Logger } from "@parley/runtime";
import { byServiceAndId, type InstanceInfo } from "../instance.js";
import type { InstanceWatch } from "../ports.js";
import type { EtcdConnection } from "./etcd-client.js";
import { decodeInstance, instancePrefix } from "./etcd-records.js";

/**
 * Follows the live instances under one prefix: a range read, then a watch
 * from the revision after it. The set is replaced only by fresh data, never
 * emptied because etcd went away.
 *
 * Every reconnection of the watch stream triggers a full resync (new range
 * read, new watch from its revision) rather than trusting etcd3's resume
 * from the last revision: an etcd that came back without its data starts
 * again from revision 1, and a watch resumed at the old, higher revision
 * would silently miss every event until the new store caught up.
 */
export class EtcdInstanceWatch implements InstanceWatch {
  readonly #entries = new Map<string, InstanceInfo>();
  #sorted: readonly InstanceInfo[] = [];
  #watcher: Watcher | undefined;
  #connected = false;
  #closed = false;
  #resyncing = false;

  private constructor(
    private readonly conn: EtcdConnection,
    private readonly service: string,
    private readonly onChange: ((instances: readonly InstanceInfo[]) => void) | undefined,
    private readonly logger: Logger | undefined,
  ) {}

  /** Resolves once the live set is loaded; rejects with RegistryUnavailable when etcd does not answer. */
  static async open(
    conn: EtcdConnection,
    service: string,
    onChange?: (instances: readonly InstanceInfo[]) => void,
    logger?: Logger,
  ): Promise<EtcdInstanceWatch> {
    const watch = new EtcdInstanceWatch(conn, service, onChange, logger);
    await watch.#sync();
    return watch;
  }

  get connected(): boolean {
    return this.#connected;
  }

  current(): readonly InstanceInfo[] {
    return this.#sorted;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#connected = false;
    await this.#dropWatcher();
  }

  async #sync(): Promise<void> {
    const prefix = instancePrefix(this.service);
    let revision: string;
    try {
      const res = await this.conn.ns.getAll().prefix(prefix).exec();
      revision = res.header.revision;
      this.#entries.clear();
      for (const kv of res.kvs) this.#apply("Put", kv.key.toString(), kv);
    } catch (err) {
      throw this.conn.unavailable("list", `listing ${prefix}`, err);
    }
    this.#publish();
    await this.#dropWatcher();
    if (this.#closed) return;
    const watcher = this.conn.ns
      .watch()
      .prefix(prefix)
      .startRevision(String(BigInt(revision) + 1n))
      .watcher();
    this.#watcher = watcher;
    // Events of a watcher replaced by a resync are ignored, not unsubscribed:
    // etcd3's own listeners on it must keep working until it is cancelled.
    const live = () => this.#watcher === watcher && !this.#closed;
    let lostStream = false;
    watcher.on("data", (res: IWatchResponse) => {
      if (live()) this.#onData(res);
    });
    watcher.on("connected", () => {
      if (!live()) return;
      this.#connected = true;
      if (lostStream) this.#resync("the watch stream reconnected");
    });
    watcher.on("disconnected", () => {
      if (!live()) return;
      if (!lostStream) this.conn.failed("watch");
      if (this.#connected)
        this.logger?.warn({ watched: this.service || "(all)", endpoints: this.conn.endpoints }, "registry watch lost etcd; keeping the last known set");
      lostStream = true;
      this.#connected = false;
    });
    // A cancelled watch (compaction, etcd restarted empty): start over.
    watcher.on("error", (err: Error) => {
      if (live()) this.#resync(err.message);
    });
    this.#connected = true;
  }

  #onData(res: IWatchResponse): void {
    if (res.events.length === 0) return; // progress notification
    for (const event of res.events) this.#apply(event.type, event.kv.key.toString(), event.kv);
    this.#publish();
  }

  #apply(type: "Put" | "Delete", key: string, kv: Parameters<typeof decodeInstance>[0]): void {
    if (type === "Delete") {
      this.#entries.delete(key);
      return;
    }
    const instance = decodeInstance(kv);
    if (instance) this.#entries.set(key, instance);
    else this.logger?.warn({ key }, "skipping a malformed registry entry");
  }

  #publish(): void {
    this.#sorted = Object.freeze([...this.#entries.values()].sort(byServiceAndId));
    try {
      this.onChange?.(this.#sorted);
    } catch (err) {
      this.logger?.error({ err }, "a registry watch listener threw");
    }
  }

  #resync(reason: string): void {
    if (this.#resyncing || this.#closed) return;
    this.#resyncing = true;
    this.#connected = false;
    this.logger?.info({ watched: this.service || "(all)", reason }, "resyncing the registry watch");
    void (async () => {
      for (let attempt = 0; !this.#closed; attempt++) {
        try {
          await this.#sync();
          break;
        } catch {
          await sleep(backoffDelayMs(attempt, { initialMs: 200, maxMs: 5000 }));
        }
      }
      this.#resyncing = false;
    })();
  }

  async #dropWatcher(): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    if (!watcher) return;
    // Cancelling waits for etcd's answer; a hung etcd must not hold up a close.
    await Promise.race([watcher.cancel().catch(() => undefined), sleep(this.conn.settings.timeoutMs)]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
