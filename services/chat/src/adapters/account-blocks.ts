import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { followEveryInstance, singleInstance, type InstanceSource } from "@parley/mesh";
import { dependencyFailure, type Logger } from "@parley/runtime";
import type { BlockDirectory, BlockState } from "../ports.js";

export interface AccountBlocksOptions {
  /** The longest an answer is reused, whatever the announcements (default 60 s): the bound while a stream is down. */
  ttlMs?: number;
  /** Most pairs kept; the oldest entry goes first (default 100,000). */
  maxEntries?: number;
  now?: () => number;
  /** Every account instance, whose block announcements are followed (each announces only its own). Default: the one behind the transport. */
  instances?: InstanceSource;
}

/**
 * Block states from the account service, cached per pair of users so that a
 * direct send asks account once per pair and replica, not once per message.
 * Each account instance announces the blocks made on it on
 * WatchAccountEvents (blocks_changed); this follows the stream of every
 * instance, as notify's target cache does, and drops the pair's entry when
 * told. When a stream opens or breaks the whole cache is dropped, and an
 * entry never outlives `ttlMs`. A lookup that raced an invalidation is not
 * kept (a generation counter), so a stale answer cannot be stored after the
 * announcement that made it stale.
 */
export class AccountBlockDirectory implements BlockDirectory {
  readonly #client: Client<typeof AccountInternalService>;
  readonly #cache = new Map<string, { value: BlockState; at: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #instances: InstanceSource;
  #generation = 0;
  #watching: { close(): void } | undefined;

  constructor(
    transport: Transport,
    private readonly logger: Logger,
    options: AccountBlocksOptions = {},
  ) {
    this.#client = createClient(AccountInternalService, transport);
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#now = options.now ?? Date.now;
    this.#instances = options.instances ?? singleInstance(transport);
  }

  /** Starts following account's announcements (call once). */
  watch(): void {
    this.#watching ??= followEveryInstance(this.#instances, (transport, signal) => this.#follow(transport, signal), {
      onError: (err, address) => {
        this.#invalidate();
        this.logger.debug({ err, address }, "account event stream ended; reconnecting");
      },
    });
  }

  async between(userId: bigint, otherId: bigint): Promise<BlockState> {
    // Stored as seen from the lower id.
    const [low, high] = userId < otherId ? [userId, otherId] : [otherId, userId];
    const key = pairKey(low, high);
    const cached = this.#cache.get(key);
    if (cached && this.#now() - cached.at < this.#ttlMs) return oriented(cached.value, low, userId);
    const generation = this.#generation;
    const value = await this.fresh(low, high);
    if (generation === this.#generation) {
      this.#cache.delete(key);
      this.#cache.set(key, { value, at: this.#now() });
      if (this.#cache.size > this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return oriented(value, low, userId);
  }

  async fresh(userId: bigint, otherId: bigint): Promise<BlockState> {
    try {
      const { userBlocksOther, otherBlocksUser } = await this.#client.checkBlock({ userId, otherUserId: otherId });
      return { userBlocksOther, otherBlocksUser };
    } catch (err) {
      throw dependencyFailure("the account service", err);
    }
  }

  close(): void {
    this.#watching?.close();
  }

  #invalidate(key?: string): void {
    this.#generation++;
    if (key === undefined) this.#cache.clear();
    else this.#cache.delete(key);
  }

  async #follow(transport: Transport, signal: AbortSignal): Promise<void> {
    const events = createClient(AccountInternalService, transport).watchAccountEvents({}, { signal });
    this.#invalidate();
    try {
      for await (const { event } of events) {
        if (event.case === "blocksChanged") this.#invalidate(pairKey(event.value.userId, event.value.otherUserId));
      }
    } finally {
      this.#invalidate();
    }
  }
}

function pairKey(a: bigint, b: bigint): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** A state stored from `storedFor`'s side, seen from `viewer`'s. */
function oriented(state: BlockState, storedFor: bigint, viewer: bigint): BlockState {
  return storedFor === viewer ? state : { userBlocksOther: state.otherBlocksUser, otherBlocksUser: state.userBlocksOther };
}
