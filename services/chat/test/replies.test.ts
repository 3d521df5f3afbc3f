import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { previewOf, quoteOf } from "../src/ports.js";

describe("replies", () => {
  it("previews the first 100 code points, an emoji counting once, and never splits a surrogate pair", () => {
    assert.equal(previewOf("short"), "short");
    assert.equal(previewOf("x".repeat(150)), "x".repeat(100));
    assert.equal(previewOf(`${"👋".repeat(99)}abc`), `${"👋".repeat(99)}a`);
    assert.equal(previewOf("👋".repeat(101)), "👋".repeat(100));
  });

  it("quotes a message for a reader: unavailable before their horizon, no preview once deleted for everyone or for them", () => {
    const quoted = { messageId: 50n, senderId: 7n, text: "hello", deleted: false };
    assert.deepEqual(quoteOf(quoted, 0n, false), { messageId: 50n, senderId: 7n, preview: "hello", deleted: false, unavailable: false });
    assert.deepEqual(quoteOf(quoted, 51n, false), { messageId: 50n, senderId: 0n, preview: "", deleted: false, unavailable: true });
    assert.deepEqual(quoteOf(quoted, 50n, true), { messageId: 50n, senderId: 7n, preview: "", deleted: true, unavailable: false });
    assert.deepEqual(quoteOf({ ...quoted, deleted: true }, 0n, false).deleted, true);
  });
});
