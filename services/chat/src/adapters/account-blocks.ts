import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { AnnouncedCache, followAccountAnnouncements, singleInstance, type InstanceSource } from "@parley/mesh";
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
 * direct send asks account once per pair and replica, not once per message,
 * and kept true by account's blocks_changed announcements (AnnouncedCache:
 * the pair's entry dropped when told, everything when a stream opens or
 * breaks, nothing older than `ttlMs`).
 */
export class AccountBlockDirectory implements BlockDirectory {
  readonly #client: Client<typeof AccountInternalService>;
  readonly #cache: AnnouncedCache<bigint, BlockState>;
  readonly #instances: InstanceSource;
  #watching: { close(): void } | undefined;

  constructor(
    transport: Transport,
    private readonly logger: Logger,
    options: AccountBlocksOptions = {},
  ) {
    this.#client = createClient(AccountInternalService, transport);
    this.#cache = new AnnouncedCache({ ttlMs: options.ttlMs ?? 60_000, maxEntries: options.maxEntries ?? 100_000, now: options.now });
    this.#instances = options.instances ?? singleInstance(transport);
  }

  /** Starts following account's announcements (call once). */
  watch(): void {
    this.#watching ??= followAccountAnnouncements(
      this.#instances,
      this.#cache,
      (event) => (event.case === "blocksChanged" ? pairKey(event.value.userId, event.value.otherUserId) : undefined),
      this.logger,
    );
  }

  cached(userId: bigint, otherId: bigint): BlockState | undefined {
    const value = this.#cache.peek(pairKey(userId, otherId));
    return value === undefined ? undefined : oriented(value, userId < otherId ? userId : otherId, userId);
  }

  async between(userId: bigint, otherId: bigint): Promise<BlockState> {
    // Stored as seen from the lower id.
    const low = userId < otherId ? userId : otherId;
    const value = await this.#cache.get(pairKey(userId, otherId), () => this.fresh(low, low === userId ? otherId : userId));
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
}

/** One key per unordered pair: the lower id in the high 64 bits (ids are unsigned 64-bit), cheaper to make than a string. */
function pairKey(a: bigint, b: bigint): bigint {
  return a < b ? (a << 64n) | b : (b << 64n) | a;
}

/** The four states, shared: reading a cached pair allocates nothing. */
const STATES: readonly (readonly BlockState[])[] = [
  [Object.freeze({ userBlocksOther: false, otherBlocksUser: false }), Object.freeze({ userBlocksOther: false, otherBlocksUser: true })],
  [Object.freeze({ userBlocksOther: true, otherBlocksUser: false }), Object.freeze({ userBlocksOther: true, otherBlocksUser: true })],
];

/** A state stored from `storedFor`'s side, seen from `viewer`'s. */
function oriented(state: BlockState, storedFor: bigint, viewer: bigint): BlockState {
  return storedFor === viewer ? state : STATES[Number(state.otherBlocksUser)]![Number(state.userBlocksOther)]!;
}
