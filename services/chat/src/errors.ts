import { Code, ConnectError } from "@connectrpc/connect";
import { isOutage, unavailable } from "@parley/runtime";

/** Base of the chat domain's errors; each maps to one status at the edge. */
export abstract class ChatError extends Error {}

/** A request field broke a rule; the message names the field and the limit. */
export class InvalidInput extends ChatError {
  constructor(field: string, rule: string) {
    super(`${field} ${rule}`);
  }
}

export class NotFound extends ChatError {}

/** The acting user may not do this (says nothing about the conversation itself). */
export class NotAllowed extends ChatError {}

export class RateLimited extends ChatError {}

export function mapChatError(err: unknown): ConnectError | undefined {
  if (err instanceof InvalidInput) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof NotFound) return new ConnectError(err.message, Code.NotFound);
  if (err instanceof NotAllowed) return new ConnectError(err.message, Code.PermissionDenied);
  if (err instanceof RateLimited) return new ConnectError(err.message, Code.ResourceExhausted);
  // Calls to other services arrive here already named (DependencyUnavailable); a raw outage is the database's.
  if (isOutage(err)) return unavailable("the message store", err);
  return mapGroupError(err);
}

/** The thing to create exists already (a member added twice). */
export class AlreadyExists extends ChatError {}

/** The state does not allow it (a full group, the last owner leaving). */
export class PreconditionFailed extends ChatError {}

export function mapGroupError(err: unknown): ConnectError | undefined {
  if (err instanceof AlreadyExists) return new ConnectError(err.message, Code.AlreadyExists);
  if (err instanceof PreconditionFailed) return new ConnectError(err.message, Code.FailedPrecondition);
  return undefined;
}
