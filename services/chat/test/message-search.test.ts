import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { MessageSearcher, searchWords } from "../src/domain/search.js";
import { snippetOf } from "../src/domain/search-snippet.js";
import { mapChatError } from "../src/errors.js";
import { SearchUnavailableError, type ConversationRecord, type MessageSearch, type MessageStore, type StoredMessage } from "../src/ports.js";

const actor = { userId: 7n, deviceId: 71n };
const at = new Date("2026-11-30T12:00:00Z");
const message = (messageId: bigint, text: string): StoredMessage => ({
  messageId,
  conversationId: 10n,
  senderId: 8n,
  senderDeviceId: 81n,
  clientMsgId: `c${messageId}`,
  text,
  createdAt: at,
});
const conversation = { id: 10n, members: [{ userId: 7n }, { userId: 8n }] } as unknown as ConversationRecord;

/** The domain over a store that records what it is asked and answers `found` (or throws `fails`). */
function searcher(found: StoredMessage[] = [], fails?: Error) {
  const asked: MessageSearch[] = [];
  const store = {
    searchMessages: async (search: MessageSearch) => {
      asked.push(search);
      if (fails) throw fails;
      return found;
    },
    getConversation: async (id: bigint) => (id === 10n ? conversation : id === 11n ? { ...conversation, id, members: [] } : undefined),
  } as unknown as MessageStore;
  return { domain: new MessageSearcher(store), asked };
}

const refusal = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => e,
  );
  const mapped = mapChatError(err);
  assert.ok(mapped, `unmapped: ${String(err)}`);
  return [Code[mapped.code], mapped.rawMessage];
};
const input = (query: string, fields: { conversationId?: bigint; beforeMessageId?: bigint; limit?: number } = {}) => ({
  query,
  conversationId: 0n,
  beforeMessageId: 0n,
  limit: 0,
  ...fields,
});

describe("message search (domain)", () => {
  it("splits the query into its distinct words, lowercased, on everything but letters, marks and digits", () => {
    assert.deepEqual(searchWords("  Hello, hello WORLD! café-42 naïve_ü "), ["hello", "world", "café", "42", "naïve", "ü"]);
    assert.deepEqual(searchWords('"not" OR NEAR(x)'), ["not", "or", "near", "x"]);
  });

  it("refuses an empty, over-long, wordless or over-wordy query, and a page over 50, naming the field", async () => {
    const { domain, asked } = searcher();
    assert.deepEqual(await refusal(domain.search(actor, input(""))), ["InvalidArgument", "query must not be empty"]);
    assert.deepEqual(await refusal(domain.search(actor, input("a".repeat(201)))), [
      "InvalidArgument",
      "query must be at most 200 characters (Unicode code points)",
    ]);
    assert.deepEqual(await refusal(domain.search(actor, input("?! …"))), ["InvalidArgument", "query must contain a word (letters or digits)"]);
    assert.deepEqual(await refusal(domain.search(actor, input("a b c d e f g h i j k"))), ["InvalidArgument", "query must have at most 10 words (it has 11)"]);
    assert.deepEqual(await refusal(domain.search(actor, input("hello", { limit: 51 }))), ["InvalidArgument", "limit must be at most 50"]);
    assert.deepEqual(asked, [], "nothing reached the store");
    // 200 emoji and a word are 201 code points but 401 UTF-16 units: counted as code points.
    await domain.search(actor, input(`${"😀".repeat(199)}x`));
  });

  it("asks the store for one more than the page, and gives the last hit's id as the next page's start", async () => {
    const { domain, asked } = searcher([message(30n, "a hello"), message(20n, "b hello"), message(10n, "c hello")]);
    const page = await domain.search(actor, input("Hello", { limit: 2, beforeMessageId: 40n, conversationId: 10n }));
    assert.deepEqual(asked, [{ userId: 7n, words: ["hello"], limit: 3, conversationId: 10n, beforeMessageId: 40n }]);
    assert.deepEqual(
      page.hits.map((hit) => hit.message.messageId),
      [30n, 20n],
    );
    assert.equal(page.nextBeforeMessageId, 20n);
    const last = await searcher([message(30n, "hello")]).domain.search(actor, input("hello"));
    assert.equal(last.nextBeforeMessageId, 0n, "no more pages");
  });

  it("refuses a conversation filter the actor cannot read as history does", async () => {
    const { domain } = searcher();
    assert.deepEqual(await refusal(domain.search(actor, input("hi", { conversationId: 99n }))), ["NotFound", "no conversation with id 99"]);
    assert.deepEqual(await refusal(domain.search(actor, input("hi", { conversationId: 11n }))), [
      "PermissionDenied",
      "you are not a member of this conversation",
    ]);
  });

  it("answers FAILED_PRECONDITION, saying search needs an index, for a store without one", async () => {
    const { domain } = searcher([], new SearchUnavailableError("Cassandra"));
    const [code, text] = await refusal(domain.search(actor, input("hello")));
    assert.equal(code, "FailedPrecondition");
    assert.match(String(text), /^search needs a search index, which the Cassandra message store does not have; see docs\/architecture\.md/);
  });
});

describe("search snippets", () => {
  it("shows a short text whole, with the words' ranges in code points, in any case and with or without diacritics", () => {
    assert.deepEqual(snippetOf("😀 Hello wörld, HELLO", ["hello", "world"]), {
      text: "😀 Hello wörld, HELLO",
      highlights: [
        { start: 2, length: 5 },
        { start: 8, length: 5 },
        { start: 15, length: 5 },
      ],
    });
  });

  it("cuts a long text around the first match, marking the cut ends", () => {
    const text = `${"lorem ".repeat(100)}needle ${"ipsum ".repeat(100)}`;
    const { text: excerpt, highlights } = snippetOf(text, ["needle"]);
    assert.ok(excerpt.startsWith("…") && excerpt.endsWith("…"), excerpt);
    assert.ok([...excerpt].length <= 162, `${[...excerpt].length} code points`);
    assert.deepEqual(highlights, [{ start: 61, length: 6 }]);
    assert.equal([...excerpt].slice(61, 67).join(""), "needle");
  });

  it("starts at the beginning when no word is found whole", () => {
    assert.deepEqual(snippetOf("short text", ["other"]), { text: "short text", highlights: [] });
  });
});
