import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countCodePoints, cutToCodePoints } from "../src/code-points.js";

// U+1F600 takes two UTF-16 units; "é" written as e + U+0301 is two code points.
const EMOJI = "😀";

describe("code points", () => {
  it("counts an emoji once, where String.length counts two UTF-16 units", () => {
    assert.equal(EMOJI.length, 2);
    assert.equal(countCodePoints(EMOJI), 1);
    assert.equal(countCodePoints(`a${EMOJI}b`), 3);
    assert.equal(countCodePoints(""), 0);
  });

  it("counts as the string iterator does: combining marks apart, lone surrogates as one each", () => {
    for (const text of ["e\u0301", "\ud83d", "\ude00", "a\ud83db", "\ude00\ud83d", `${EMOJI}\ud83d`, "Grüße 👋🏽 世界 🇫🇷"]) {
      assert.equal(countCodePoints(text), [...text].length, JSON.stringify(text));
    }
  });

  it("counts the 100,000-character limit of a message in code points", () => {
    assert.equal(countCodePoints(EMOJI.repeat(100_000)), 100_000);
  });

  it("cuts to a number of code points without splitting a surrogate pair", () => {
    assert.equal(cutToCodePoints(`ab${EMOJI}${EMOJI}c`, 3), `ab${EMOJI}`);
    assert.equal(cutToCodePoints(EMOJI.repeat(5), 2), EMOJI.repeat(2));
    assert.equal(cutToCodePoints("\ud83dx", 1), "\ud83d", "a lone surrogate is one code point");
  });

  it("keeps a text that is not longer than the cut whole, and cuts to nothing at 0", () => {
    assert.equal(cutToCodePoints(`a${EMOJI}`, 2), `a${EMOJI}`);
    assert.equal(cutToCodePoints(`a${EMOJI}`, 10), `a${EMOJI}`);
    assert.equal(cutToCodePoints("abc", 0), "");
  });

  it("cuts where Array.from would", () => {
    const text = "Grüße 👋🏽 世界 🇫🇷 e\u0301 \ud83d!";
    for (let max = 0; max <= countCodePoints(text) + 1; max++) {
      assert.equal(cutToCodePoints(text, max), Array.from(text).slice(0, max).join(""), `max ${max}`);
    }
  });
});
