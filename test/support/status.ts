import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";

/** Asserts that `call` fails with `code` and a message matching `message` (a gRPC status, as any client sees it). */
export async function refused(call: Promise<unknown>, code: Code, message: RegExp): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    const e = ConnectError.from(err);
    assert.equal(Code[e.code], Code[code], `got ${Code[e.code]} "${e.rawMessage}"`);
    assert.match(e.rawMessage, message);
    return true;
  });
}

/** What must never reach a client in a status message: addresses, ports, errnos, transport and driver texts. */
export const INTERNAL_DETAILS = /127\.0\.0\.1|localhost|:\d{2,5}\b|ECONN|EPIPE|ETIMEDOUT|EHOST|terminat|Connection|socket|postgres|pglite|internal error/i;
