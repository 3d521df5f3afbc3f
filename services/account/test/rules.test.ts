import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidInput } from "../src/errors.js";
import { checkName, checkPassword, checkUsername } from "../src/domain/rules.js";

const refuses = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (err: unknown) => err instanceof InvalidInput && pattern.test(err.message));

describe("account rules", () => {
  describe("usernames", () => {
    it("accepts letters, digits and underscores and stores them in lower case", () => {
      assert.equal(checkUsername("Alice_01"), "alice_01");
    });
    it("refuses names shorter than 3 or longer than 32 characters", () => {
      refuses(() => checkUsername("ab"), /3 to 32/);
      refuses(() => checkUsername("a".repeat(33)), /3 to 32/);
      assert.equal(checkUsername("a".repeat(32)), "a".repeat(32));
    });
    it("refuses a leading digit, spaces, punctuation and non-ASCII letters", () => {
      for (const bad of ["1alice", "al ice", "al-ice", "alicé", "ali.ce"]) refuses(() => checkUsername(bad), /ASCII letters/);
    });
    it("refuses an empty username as required", () => {
      refuses(() => checkUsername(""), /required/);
    });
  });

  describe("passwords", () => {
    it("accepts a long enough password with varied characters", () => {
      checkPassword("correct horse battery", "alice");
    });
    it("refuses short, oversized, repetitive or username-containing passwords", () => {
      refuses(() => checkPassword("short1!", "alice"), /at least 10/);
      refuses(() => checkPassword("x".repeat(129), "alice"), /at most 128/);
      refuses(() => checkPassword("abababababab", "alice"), /4 different/);
      refuses(() => checkPassword("my-ALICE-password", "alice"), /username/);
    });
    it("counts characters as code points, so 128 emoji are allowed and 129 are not", () => {
      const emoji = "😀🙂😎🤖";
      checkPassword(emoji.repeat(32), "alice");
      refuses(() => checkPassword(`${emoji.repeat(32)}😀`, "alice"), /at most 128/);
    });
  });

  describe("names", () => {
    it("trims and accepts up to 64 characters", () => {
      assert.equal(checkName("display_name", "  Alice  "), "Alice");
      refuses(() => checkName("display_name", "a".repeat(65)), /at most 64/);
    });
    it("refuses blank names and control characters", () => {
      refuses(() => checkName("device_name", "   "), /required/);
      refuses(() => checkName("device_name", "pho\u0000ne"), /control/);
    });
  });
});
