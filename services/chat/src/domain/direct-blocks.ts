import { NotAllowed } from "../errors.js";
import type { BlockDirectory, BlockState, MessageStore } from "../ports.js";

/** Most conversations whose kind and members are remembered (a few dozen bytes each). */
const MAX_CONVERSATIONS = 100_000;

/**
 * Blocks in direct conversations: while either member blocks the other,
 * neither may send or type there, and neither may open it. Groups are not
 * affected (docs/protocol.md, "Blocking").
 *
 * The send path is the hot path, so a send asks no other service: a
 * conversation's kind and members are read once per replica (a direct
 * conversation's never change) and the pair's block state comes from the
 * block directory's cache, which account's announcements keep correct on
 * every replica (BlockDirectory's contract). A cached conversation and pair
 * make the check two map lookups; a group's send, one.
 */
export class DirectBlocks {
  /** Conversation id: its two members when direct, null for a group. */
  readonly #kinds = new Map<bigint, readonly [bigint, bigint] | null>();
  /** Reads of a conversation not yet remembered, shared by the sends that wait for it (one read, not one per send). */
  readonly #loading = new Map<bigint, Promise<readonly [bigint, bigint] | null | undefined>>();

  constructor(
    private readonly store: MessageStore,
    private readonly blocks: BlockDirectory,
  ) {}

  /** Refuses (NotAllowed) when a block stands between the sender and the other member of this direct conversation. */
  check(userId: bigint, conversationId: bigint): Promise<void> | undefined {
    const members = this.#kinds.get(conversationId);
    if (members === undefined) return this.#load(conversationId).then((loaded) => (loaded ? this.#checkPair(userId, loaded) : undefined));
    return members === null ? undefined : this.#checkPair(userId, members);
  }

  /** Refuses opening a direct conversation across a block (asked of account, not the cache). */
  async checkOpen(userId: bigint, peer: bigint): Promise<void> {
    const state = await this.blocks.fresh(userId, peer);
    if (state.userBlocksOther) throw new NotAllowed("you blocked this user; unblock them to start a conversation");
    if (state.otherBlocksUser) throw new NotAllowed("you cannot start a conversation with this user");
  }

  #checkPair(userId: bigint, members: readonly [bigint, bigint]): Promise<void> | undefined {
    const peer = members[0] === userId ? members[1] : members[1] === userId ? members[0] : undefined;
    // Not a member: the store refuses the send as it does for any conversation.
    if (peer === undefined) return undefined;
    // A cached pair (nearly every send) is answered without a promise.
    const known = this.blocks.cached(userId, peer);
    if (known !== undefined) {
      const refusal = refusalOf(known);
      return refusal === undefined ? undefined : Promise.reject(refusal);
    }
    return this.blocks.between(userId, peer).then((state) => {
      const refusal = refusalOf(state);
      if (refusal !== undefined) throw refusal;
    });
  }

  /** The conversation's members when direct, null for a group; a missing one (the store's to refuse) is not remembered. */
  #load(conversationId: bigint): Promise<readonly [bigint, bigint] | null | undefined> {
    let loading = this.#loading.get(conversationId);
    if (loading === undefined) {
      loading = this.#read(conversationId).finally(() => this.#loading.delete(conversationId));
      this.#loading.set(conversationId, loading);
    }
    return loading;
  }

  async #read(conversationId: bigint): Promise<readonly [bigint, bigint] | null | undefined> {
    const conversation = await this.store.getConversation(conversationId);
    if (conversation === undefined) return undefined;
    const [a, b] = conversation.members;
    const members = conversation.kind === "direct" && a && b ? ([a.userId, b.userId] as const) : null;
    this.#kinds.set(conversationId, members);
    if (this.#kinds.size > MAX_CONVERSATIONS) this.#kinds.delete(this.#kinds.keys().next().value!);
    return members;
  }
}

function refusalOf(state: BlockState): NotAllowed | undefined {
  if (state.userBlocksOther) return new NotAllowed("you blocked this user; unblock them to send messages");
  if (state.otherBlocksUser) return new NotAllowed("you cannot send messages to this user");
  return undefined;
}
