import { countCodePoints } from "@parley/runtime";
import { InvalidInput } from "../errors.js";

/**
 * The input rules of the account API, in one place so the docs, the proto
 * comments and the code agree. Lengths count Unicode code points, so an
 * emoji counts once however many UTF-16 units it takes.
 */
export const LIMITS = {
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 10,
  passwordMax: 128,
  passwordDistinctMin: 4,
  nameMax: 64,
} as const;

const USERNAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const CONTROL = /\p{Cc}/u;

/** Returns the username in its stored (lower-case) form. */
export function checkUsername(raw: string): string {
  if (raw === "") throw new InvalidInput("username", "is required");
  const length = countCodePoints(raw);
  if (length < LIMITS.usernameMin || length > LIMITS.usernameMax) {
    throw new InvalidInput("username", `must be ${LIMITS.usernameMin} to ${LIMITS.usernameMax} characters`);
  }
  if (!USERNAME.test(raw)) {
    throw new InvalidInput("username", "may contain only ASCII letters, digits and underscores, and must start with a letter");
  }
  return raw.toLowerCase();
}

/** The password rules of sign-up and of a password change; `field` names the request field in errors. */
export function checkPassword(password: string, username: string, field = "password"): void {
  if (password === "") throw new InvalidInput(field, "is required");
  const length = countCodePoints(password);
  if (length < LIMITS.passwordMin) throw new InvalidInput(field, `must be at least ${LIMITS.passwordMin} characters`);
  if (length > LIMITS.passwordMax) throw new InvalidInput(field, `must be at most ${LIMITS.passwordMax} characters`);
  if (new Set(password).size < LIMITS.passwordDistinctMin) {
    throw new InvalidInput(field, `must use at least ${LIMITS.passwordDistinctMin} different characters`);
  }
  if (password.toLowerCase().includes(username.toLowerCase())) {
    throw new InvalidInput(field, "must not contain the username");
  }
}

/** Display and device names: trimmed, 1 to 64 characters, no control characters. */
export function checkName(field: string, raw: string): string {
  const name = raw.trim();
  if (name === "") throw new InvalidInput(field, "is required");
  if (countCodePoints(name) > LIMITS.nameMax) throw new InvalidInput(field, `must be at most ${LIMITS.nameMax} characters`);
  if (CONTROL.test(name)) throw new InvalidInput(field, "must not contain control characters");
  return name;
}
