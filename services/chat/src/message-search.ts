/**
 * The message store's records and errors for search (re-exported by
 * ports.ts, whose MessageStore port takes them).
 */

/** A search of the messages one user can read, already checked by the domain. */
export interface MessageSearch {
  /** Whose messages: only conversations this user is a member of now, from their history horizon on. */
  userId: bigint;
  /** The words, each a run of letters, marks and digits, lowercased; 1 to 10 of them. A message matches when it holds every one, whole. */
  words: readonly string[];
  /** Only this conversation; undefined: every conversation of the user. */
  conversationId?: bigint;
  /** Only messages with a lower id; undefined: from the newest. */
  beforeMessageId?: bigint;
  /** At most this many, 1 or more. */
  limit: number;
}

/**
 * Thrown by searchMessages by a store that has no search index (Cassandra):
 * nothing was read. The domain answers FAILED_PRECONDITION with this message.
 */
export class SearchUnavailableError extends Error {
  override name = "SearchUnavailableError";
  constructor(store: string) {
    super(`search needs a search index, which the ${store} message store does not have; see docs/architecture.md, "Search"`);
  }
}
