import { handleWhen, retry, type RetryPolicy } from "cockatiel";
import type { Etcd3 } from "etcd3";

/**
 * etcd's JWT auth tokens carry the auth store's revision: after any change
 * to users or roles (such as adding the second user of a password rotation)
 * etcd refuses every older token with "revision of auth store is old". etcd3
 * 1.1.2 keeps using its token until it expires (microsoft/etcd3#198), so
 * every call would fail for minutes. This policy, wrapped around the client's
 * global one, forgets the token and retries the call once: the retry signs
 * in again with a token of the current revision. (etcd's simple tokens are
 * not affected.)
 *
 * Forgetting reaches into etcd3's private authenticator, the one it resets
 * itself on "invalid auth token"; `bind` checks it is there, so an etcd3
 * without it stops the start instead of failing quietly later.
 */
export class TokenRenewal {
  readonly policy: RetryPolicy;
  #forget: (() => void) | undefined;

  constructor() {
    this.policy = retry(handleWhen(isStaleToken), { maxAttempts: 1 });
    this.policy.onRetry(() => this.#forget?.());
  }

  /** Points the policy at the client it serves (built after the policy, which its options need). */
  bind(client: Etcd3): void {
    const authenticator = (client as unknown as { pool?: { authenticator?: { invalidateMetadata?: unknown } } }).pool?.authenticator;
    const invalidate = authenticator?.invalidateMetadata;
    if (typeof invalidate !== "function") {
      throw new Error("etcd3's client has no authenticator to reset: its internals changed; see etcd-token-renewal.ts");
    }
    this.#forget = () => invalidate.call(authenticator);
  }
}

function isStaleToken(err: Error): boolean {
  return err.message.includes("etcdserver: revision of auth store is old");
}
