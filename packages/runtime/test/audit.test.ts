import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContextValues, type HandlerContext } from "@connectrpc/connect";
import { audited, callerKey, parsePrincipal, type Logger } from "../src/index.js";

/** A logger that keeps what it was given. */
function recorder() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
  return { logger: { info: at("info"), warn: at("warn") } as unknown as Logger, lines };
}

const asOperator = { values: createContextValues().set(callerKey, parsePrincipal("operator:alice")) } as unknown as HandlerContext;

describe("audited (operators' actions)", () => {
  it("writes one line with the operator's principal, the action, the target (ids as strings, empty fields left out) and ok", async () => {
    const { logger, lines } = recorder();
    assert.equal(await audited(logger, asOperator, "disable_account", { userId: 1042n, username: "", reason: "spam" }, async () => 7), 7);
    assert.deepEqual(lines, [
      {
        level: "info",
        fields: { audit: true, operator: "operator:alice", action: "disable_account", target: { userId: "1042", reason: "spam" }, result: "ok" },
        msg: "operator action",
      },
    ]);
  });

  it("writes the refusal with the error's message, and rethrows it", async () => {
    const { logger, lines } = recorder();
    await assert.rejects(
      audited(logger, asOperator, "end_session", { userId: 1n, sessionId: 9n }, async () => {
        throw new Error("no live session 9 of user 1");
      }),
      /no live session/,
    );
    assert.equal(lines.length, 1);
    assert.deepEqual(
      [lines[0]!.level, lines[0]!.fields.result, lines[0]!.fields.error, lines[0]!.fields.operator],
      ["warn", "refused", "no live session 9 of user 1", "operator:alice"],
    );
  });
});
