import { Code, ConnectError } from "@connectrpc/connect";

/** A request field broke a rule; the message names the field and the limit. */
export class InvalidInput extends Error {
  constructor(field: string, rule: string) {
    super(`${field} ${rule}`);
  }
}

export function mapPresenceError(err: unknown): ConnectError | undefined {
  if (err instanceof InvalidInput) return new ConnectError(err.message, Code.InvalidArgument);
  return undefined;
}
