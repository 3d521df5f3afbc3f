import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkEmoji } from "../src/domain/reactions.js";
import { countReactions, reactionCapReached, REACTION_LIMITS } from "../src/ports.js";

const at = (ms: number) => new Date(ms);

describe("reactions", () => {
  describe("checkEmoji", () => {
    it("accepts one emoji: plain, with a skin tone, with a variation selector, a ZWJ family, a flag, a keycap, a text-style pictograph", () => {
      for (const emoji of ["👍", "👍🏽", "❤️", "❤", "👨‍👩‍👧", "🏳️‍🌈", "🇫🇷", "1️⃣", "#️⃣", "©️", "🏴󠁧󠁢󠁥󠁮󠁧󠁿"]) assert.doesNotThrow(() => checkEmoji(emoji), emoji);
    });

    it("refuses text, two emoji, a letter with an emoji, a bare digit or skin tone, and the empty string, saying what it wants", () => {
      for (const bad of ["a", "ok", "👍👍", "a👍", "👍 ", "1", "#", "🏽", "\u200d", "é"]) {
        assert.throws(
          () => checkEmoji(bad),
          (err: Error) => /^emoji must be exactly one emoji \(such as "👍" or "❤️"\), not /.test(err.message),
          JSON.stringify(bad),
        );
      }
      assert.throws(
        () => checkEmoji(""),
        (err: Error) => err.message.startsWith("emoji is required"),
      );
      assert.throws(
        () => checkEmoji("👍".repeat(40)),
        (err: Error) => err.message.startsWith("emoji must be exactly one emoji"),
      );
    });
  });

  describe("countReactions", () => {
    it("counts per emoji in the order of each one's earliest reaction, marking the viewer's", () => {
      const reactions = [
        { userId: 2n, emoji: "❤️", at: at(5) },
        { userId: 1n, emoji: "👍", at: at(3) },
        { userId: 2n, emoji: "👍", at: at(4) },
      ];
      assert.deepEqual(countReactions(reactions, 2n), [
        { emoji: "👍", count: 2, mine: true },
        { emoji: "❤️", count: 1, mine: true },
      ]);
      assert.deepEqual(countReactions(reactions, 1n)[1], { emoji: "❤️", count: 1, mine: false });
    });
  });

  describe("reactionCapReached", () => {
    const change = (userId: bigint, emoji: string) => ({ conversationId: 1n, messageId: 2n, userId, emoji, remove: false, at: at(0) });

    it(`stops a user at ${REACTION_LIMITS.perUserPerMessage} reactions per message and a message at ${REACTION_LIMITS.distinctPerMessage} distinct emoji`, () => {
      const mine = ["a", "b", "c"].map((emoji) => ({ userId: 1n, emoji, at: at(0) }));
      assert.equal(reactionCapReached(mine, change(1n, "d")), "too_many_mine");
      assert.equal(reactionCapReached(mine, change(2n, "d")), undefined);
      const full = Array.from({ length: REACTION_LIMITS.distinctPerMessage }, (_, i) => ({ userId: BigInt(100 + i), emoji: `e${i}`, at: at(i) }));
      assert.equal(reactionCapReached(full, change(1n, "new")), "too_many_emoji");
      assert.equal(reactionCapReached(full, change(1n, "e3")), undefined, "an emoji the message has");
    });
  });
});
