import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidInput } from "../src/errors.js";
import { applySettings, DEFAULT_SETTINGS, type SettingsRecord } from "../src/domain/settings.js";

const withPreview = (previewLength: number): SettingsRecord => ({ ...DEFAULT_SETTINGS, mutedConversationIds: [], previewLength });

describe("account settings rules", () => {
  describe("preview_length", () => {
    it("defaults to 0, which leaves the length to notify", () => {
      assert.equal(DEFAULT_SETTINGS.previewLength, 0);
    });
    it("accepts whole numbers from 0 to 500", () => {
      for (const ok of [0, 1, 100, 500]) assert.equal(applySettings(DEFAULT_SETTINGS, withPreview(ok), ["preview_length"]).previewLength, ok);
    });
    // The contract's uint32 cannot carry most of these; the domain refuses them for any other caller.
    it("refuses negative, fractional, non-finite and oversized values, naming the field", () => {
      for (const bad of [-1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, 501, 2 ** 32 - 1]) {
        assert.throws(
          () => applySettings(DEFAULT_SETTINGS, withPreview(bad), ["preview_length"]),
          (err: unknown) => err instanceof InvalidInput && err.field === "preview_length" && /0 to 500/.test(err.message),
          `refuses ${bad}`,
        );
      }
    });
  });
});
