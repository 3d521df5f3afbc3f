import { Code, ConnectError } from "@connectrpc/connect";
import { isOutage, unavailable } from "@parley/runtime";

/** A request field broke a rule; the message names the field and the rule. */
export class InvalidInput extends Error {
  constructor(field: string, rule: string) {
    super(`${field} ${rule}`);
  }
}

/** The user, notification or other named thing does not exist. */
export class NotFound extends Error {}

/** An event id was used before for a different notification. */
export class EventIdConflict extends Error {
  constructor(eventId: string) {
    super(`event_id "${eventId}" was already used for a different notification (user, kind, params or channels differ)`);
  }
}

/** The caller did not present valid app credentials. */
export class NotAuthenticated extends Error {}

export function mapNotifyError(err: unknown): ConnectError | undefined {
  if (err instanceof InvalidInput) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof NotFound) return new ConnectError(err.message, Code.NotFound);
  if (err instanceof EventIdConflict) return new ConnectError(err.message, Code.AlreadyExists);
  if (err instanceof NotAuthenticated) return new ConnectError(err.message, Code.Unauthenticated);
  // Calls to other services arrive here already named (DependencyUnavailable); a raw outage is the database's.
  if (isOutage(err)) return unavailable("the notification store", err);
  return undefined;
}
