import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidInput } from "../src/errors.js";
import { checkParams, render } from "../src/domain/templates.js";

const params = (preview: string) => ({ conversation_id: "1", sender_name: "Ada", preview });

describe("templates", () => {
  it("counts a parameter's 4,096 characters as code points, so 4,096 emoji pass and 4,097 do not", () => {
    // Regression: the limit counted UTF-16 units, refusing 2,049 emoji as "more than 4,096 characters".
    checkParams("new_message", params("😀".repeat(4_096)));
    assert.throws(() => checkParams("new_message", params("😀".repeat(4_097))), InvalidInput);
  });

  it("cuts a preview to the user's length in code points, never splitting an emoji, and marks the cut", () => {
    const body = (preview: string, previewLength: number) => render("new_message", params(preview), { showPreviews: true, previewLength }).body;
    assert.equal(body("😀😀😀😀", 3), "😀😀😀…");
    assert.equal(body("😀😀😀", 3), "😀😀😀");
    assert.equal(body("  see\n\n you   soon ", 5), "see y…");
  });
});
