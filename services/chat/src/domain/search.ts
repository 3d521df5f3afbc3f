import { countCodePoints } from "@parley/runtime";
import { InvalidInput, NotAllowed, NotFound, PreconditionFailed } from "../errors.js";
import { SearchUnavailableError } from "../ports.js";
import type { MessageStore, StoredMessage } from "../ports.js";
import type { Actor } from "./chat.js";
import { pageSize } from "./limits.js";
import { snippetOf, WORD, type Snippet } from "./search-snippet.js";

/** Search limits: the query's length in code points and its number of words, and the page size. */
export const SEARCH_LIMITS = {
  queryMax: 200,
  wordsMax: 10,
  pageDefault: 20,
  pageMax: 50,
} as const;

export interface SearchInput {
  query: string;
  /** 0: every conversation of the actor. */
  conversationId: bigint;
  /** 0: from the newest. */
  beforeMessageId: bigint;
  /** 0: the default page size. */
  limit: number;
}

export interface SearchHit {
  message: StoredMessage;
  snippet: Snippet;
}

export interface SearchPage {
  hits: SearchHit[];
  /** The next page's beforeMessageId; 0n when there is none. */
  nextBeforeMessageId: bigint;
}

/**
 * Search of the actor's readable messages: checks the input (naming the
 * field it refuses), the conversation filter's membership as history does,
 * then asks the store, whose index does the matching and the visibility
 * rules (horizon, left and deleted conversations, deleted and hidden
 * messages), and cuts the snippets here, the same for every store.
 */
export class MessageSearcher {
  constructor(private readonly store: MessageStore) {}

  async search(actor: Actor, input: SearchInput): Promise<SearchPage> {
    const words = searchWords(input.query);
    const size = pageSize("limit", input.limit, SEARCH_LIMITS.pageDefault, SEARCH_LIMITS.pageMax);
    if (input.conversationId !== 0n) await this.requireMember(actor, input.conversationId);
    const page = await this.store
      .searchMessages({
        userId: actor.userId,
        words,
        limit: size + 1,
        ...(input.conversationId === 0n ? {} : { conversationId: input.conversationId }),
        ...(input.beforeMessageId === 0n ? {} : { beforeMessageId: input.beforeMessageId }),
      })
      .catch((err: unknown) => {
        if (err instanceof SearchUnavailableError) throw new PreconditionFailed(err.message);
        throw err;
      });
    const messages = page.slice(0, size);
    const last = messages.at(-1);
    return {
      hits: messages.map((message) => ({ message, snippet: snippetOf(message.text, words) })),
      nextBeforeMessageId: page.length > size && last ? last.messageId : 0n,
    };
  }

  private async requireMember(actor: Actor, conversationId: bigint): Promise<void> {
    const conversation = await this.store.getConversation(conversationId);
    if (conversation === undefined) throw new NotFound(`no conversation with id ${conversationId}`);
    if (!conversation.members.some((m) => m.userId === actor.userId)) throw new NotAllowed("you are not a member of this conversation");
  }
}

/** The query's distinct words, lowercased, in order; refuses a query out of the limits, naming the field. */
export function searchWords(query: string): string[] {
  if (query.length === 0) throw new InvalidInput("query", "must not be empty");
  if (query.length > SEARCH_LIMITS.queryMax * 2 || countCodePoints(query) > SEARCH_LIMITS.queryMax) {
    throw new InvalidInput("query", `must be at most ${SEARCH_LIMITS.queryMax} characters (Unicode code points)`);
  }
  const words = [...new Set(Array.from(query.matchAll(WORD), (m) => m[0].toLowerCase()))];
  if (words.length === 0) throw new InvalidInput("query", "must contain a word (letters or digits)");
  if (words.length > SEARCH_LIMITS.wordsMax) throw new InvalidInput("query", `must have at most ${SEARCH_LIMITS.wordsMax} words (it has ${words.length})`);
  return words;
}
