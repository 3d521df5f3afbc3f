import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";

/** Asserts that a call is refused with this gRPC code and, when given, a message matching the pattern (the message without its code prefix). */
export async function rejectsWithCode(call: Promise<unknown>, code: Code, pattern?: RegExp): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    const e = ConnectError.from(err);
    assert.equal(Code[e.code], Code[code], `expected ${Code[code]}, got ${Code[e.code]}: ${e.rawMessage}`);
    if (pattern) assert.match(e.rawMessage, pattern);
    return true;
  });
}
