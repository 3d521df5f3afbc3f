import type { Error as ErrorFrame } from "@parley/contracts/parley/client/v1/client";
import { handshakeRefusal, type CloseAction, type HandshakeRefusal } from "@parley/wire";

/**
 * Every error the SDK surfaces. `code` is a gRPC status name
 * ("INVALID_ARGUMENT", "DEADLINE_EXCEEDED", ...), the same vocabulary as the
 * server's error frames; `retryable` says whether the same request may succeed
 * later. The underlying failure, if any, is kept as `cause`.
 */
export class ParleyError extends Error {
  override name = "ParleyError";

  constructor(
    readonly code: string,
    message: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The error a server error frame describes. */
  static fromFrame(frame: ErrorFrame): ParleyError {
    return new ParleyError(frame.code || "UNKNOWN", frame.message, frame.retryable);
  }
}

/**
 * The connection closed while a request was waiting for its reply, or the
 * client stopped because of how the server closed it. `action` is what the
 * close code means (closeAction); the request is retryable unless the client
 * stopped. A refused upgrade (httpStatus set) names why in `refusal`, such as
 * `origin_refused`.
 */
export class ConnectionClosedError extends ParleyError {
  override name = "ConnectionClosedError";
  /** Why the server refused the upgrade, when it did and the platform could see the status. */
  readonly refusal: HandshakeRefusal | undefined;

  constructor(
    readonly closeCode: number,
    readonly reason: string,
    readonly action: CloseAction,
    /** The HTTP status when the server refused the upgrade itself. */
    readonly httpStatus?: number,
  ) {
    const refusal = httpStatus === undefined ? undefined : handshakeRefusal(httpStatus);
    const what =
      httpStatus === undefined
        ? `the connection closed (${closeCode}${reason ? `: ${reason}` : ""})`
        : `the server refused the connection (HTTP ${httpStatus}, ${refusal}${reason ? `: ${reason}` : ""})`;
    super("UNAVAILABLE", what, action !== "stop");
    this.refusal = refusal;
  }
}

/**
 * The server refused the access token (HTTP 401 or a 41xx close) and no
 * `getToken` was supplied, or `getToken` failed or gave back the token just
 * refused. Log in again, then create a new client or call connect() again.
 */
export class AuthenticationError extends ParleyError {
  override name = "AuthenticationError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("UNAUTHENTICATED", message, false, options);
  }
}

/** The application closed the client (close() or an aborted connect signal); pending work is cancelled. */
export class ClientClosedError extends ParleyError {
  override name = "ClientClosedError";

  constructor() {
    super("CANCELLED", "the client was closed", false);
  }
}

/** A request that got no reply within its timeout. */
export function deadlineExceeded(what: string, timeoutMs: number): ParleyError {
  return new ParleyError("DEADLINE_EXCEEDED", `${what} got no reply within ${timeoutMs} ms`, true);
}

/** Any thrown value as a ParleyError (UNKNOWN, keeping it as the cause, when it is not one already). */
export function toParleyError(err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  return new ParleyError("UNKNOWN", err instanceof Error ? err.message : String(err), false, { cause: err });
}

/** A reply's conversation, which every conversation-changing request returns. */
export function required<T>(value: T | undefined): T {
  if (value === undefined) throw new ParleyError("INTERNAL", "the reply lacked its conversation");
  return value;
}
