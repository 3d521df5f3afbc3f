import type { HandlerContext } from "@connectrpc/connect";
import type { Logger } from "../logger.js";
import { callerKey } from "./principals.js";

/**
 * Operators' actions (moderation) are audited: one structured log line per
 * call, refused or not, with `"audit":true`, the operator's principal (from
 * the verified service token), the action, its target (ids as decimal
 * strings, empty fields left out) and the result ("ok", or "refused" with
 * the error's message). Search the logs for `"audit":true`.
 */
/** Runs an operator action and writes its audit line, whatever the outcome. */
export async function audited<T>(logger: Logger, context: HandlerContext, action: string, target: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
  const operator = context.values.get(callerKey)?.name ?? "unknown";
  const fields = { audit: true, operator, action, target: stringified(target) };
  try {
    const result = await run();
    logger.info({ ...fields, result: "ok" }, "operator action");
    return result;
  } catch (err) {
    logger.warn({ ...fields, result: "refused", error: err instanceof Error ? err.message : String(err) }, "operator action");
    throw err;
  }
}

/** 64-bit ids as decimal strings, empty fields left out. */
function stringified(target: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(target)) {
    if (value === "" || value === 0n || value === undefined) continue;
    out[key] = String(value);
  }
  return out;
}
