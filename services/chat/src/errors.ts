import { Code, ConnectError } from "@connectrpc/connect";

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
  return undefined;
}
