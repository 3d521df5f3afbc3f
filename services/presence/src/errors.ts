import { Code, ConnectError } from "@connectrpc/connect";
import { isOutage, unavailable } from "@parley/runtime";

/** A request field broke a rule; the message names the field and the limit. */
export class InvalidInput extends Error {
  constructor(field: string, rule: string) {
    super(`${field} ${rule}`);
  }
}

export function mapPresenceError(err: unknown): ConnectError | undefined {
  if (err instanceof InvalidInput) return new ConnectError(err.message, Code.InvalidArgument);
  // Calls to account arrive here already named (DependencyUnavailable); a raw outage is the database's.
  if (isOutage(err)) return unavailable("the presence store", err);
  return undefined;
}
