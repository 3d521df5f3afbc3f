import { countCodePoints } from "@parley/runtime";
import { InvalidInput } from "../errors.js";

/**
 * Message limits. Text length counts Unicode code points (what a person sees
 * as characters, an emoji counting once), not UTF-16 units or bytes.
 */
export const LIMITS = {
  textMax: 100_000,
  clientMsgIdMax: 64,
  historyDefault: 50,
  historyMax: 200,
  syncDefault: 500,
  syncMax: 1_000,
  conversationsDefault: 50,
  conversationsMax: 100,
} as const;

export function checkText(text: string): void {
  if (text.length === 0) throw new InvalidInput("text", "must not be empty");
  // Cheap bound first: a string of more than 2x the limit in UTF-16 units is over it.
  if (text.length > LIMITS.textMax * 2 || countCodePoints(text) > LIMITS.textMax) {
    throw new InvalidInput("text", `must be at most ${LIMITS.textMax} characters (Unicode code points)`);
  }
  if (text.trim().length === 0) throw new InvalidInput("text", "must not be only whitespace");
}

export function checkClientMsgId(id: string): void {
  if (id.length === 0) throw new InvalidInput("client_msg_id", "is required (a unique id per message, such as a UUID)");
  if (id.length > LIMITS.clientMsgIdMax) throw new InvalidInput("client_msg_id", `must be at most ${LIMITS.clientMsgIdMax} characters`);
}

/** A page size: 0 means the default; above the maximum is refused. */
export function pageSize(field: string, requested: number, fallback: number, max: number): number {
  if (requested === 0) return fallback;
  if (requested > max) throw new InvalidInput(field, `must be at most ${max}`);
  return requested;
}
