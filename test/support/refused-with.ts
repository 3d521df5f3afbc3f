import assert from "node:assert/strict";
import { ParleyError } from "@parley/client";

/** Rejects with a ParleyError of `code` whose message matches `message`. */
export async function refusedWith(call: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof ParleyError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}
