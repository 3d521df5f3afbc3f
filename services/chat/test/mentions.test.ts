import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newMessageRequest } from "../src/adapters/notify-request.js";
import { Mentions, mentionedNames, MENTIONS_MAX } from "../src/domain/mentions.js";
import type { ConversationRecord, StoredMessage } from "../src/ports.js";

describe("mentions", () => {
  describe("mentionedNames", () => {
    it("finds @names at the start or after a non-name character, lower-cased, distinct, in order", () => {
      assert.deepEqual(mentionedNames("@Ada hi @bob_2, (@ada) and @carol!"), ["ada", "bob_2", "carol"]);
    });

    it("ignores email addresses, a lone @, @@ and names that cannot be usernames", () => {
      assert.deepEqual(mentionedNames("write to x@ada.example, @ @@bob @1abc @_x"), []);
    });

    it(`stops at ${MENTIONS_MAX} distinct names`, () => {
      const text = Array.from({ length: MENTIONS_MAX + 10 }, (_, i) => `@user${i}`).join(" ");
      assert.equal(mentionedNames(text).length, MENTIONS_MAX);
    });
  });

  describe("Mentions.resolve", () => {
    const conversation = { id: 9n, members: [1n, 2n, 3n].map((userId) => ({ userId })) } as unknown as ConversationRecord;

    function resolver() {
      const calls: string[] = [];
      const mentions = new Mentions(
        {
          getConversation: async () => {
            calls.push("members");
            return conversation;
          },
        },
        {
          existing: async () => new Set(),
          usernames: async (ids) => {
            calls.push(`usernames ${ids.join(",")}`);
            return new Map([
              [1n, "Ada"],
              [2n, "Bob"],
              [3n, "Carol"],
            ]);
          },
        },
      );
      return { mentions, calls };
    }

    it("makes no call at all for a text without @", async () => {
      const { mentions, calls } = resolver();
      assert.deepEqual(await mentions.resolve(9n, 1n, "no mentions, mail at example dot com"), []);
      assert.deepEqual(calls, []);
    });

    it("resolves members' usernames case-insensitively, once each, leaving out the sender and unknown names", async () => {
      const { mentions, calls } = resolver();
      assert.deepEqual(await mentions.resolve(9n, 1n, "@carol @BOB @ada @dave @bob"), [3n, 2n]);
      assert.deepEqual(calls, ["members", "usernames 2,3"]);
    });
  });

  it("tells notify when the push's recipient is mentioned, so a muted conversation still notifies", () => {
    const message = { messageId: 5n, conversationId: 9n, senderId: 1n, text: "@bob hi", mentionedUserIds: [2n] } as StoredMessage;
    const content = (recipientId: bigint) => ({ push: { message, recipientId }, senderName: "Ada", groupName: "g", badge: 1 });
    assert.equal(newMessageRequest(content(2n) as never).params.mentioned, "true");
    assert.equal(newMessageRequest(content(3n) as never).params.mentioned, undefined);
  });
});
