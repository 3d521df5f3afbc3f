import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "./logger.js";
import { DependencyUnavailable, isOutage } from "./outage.js";

/** Maps a service's domain error to a status, or returns undefined for an unexpected error. */
export type ErrorMapper = (err: unknown) => ConnectError | undefined;

/** One service's error mapping: its domain errors and the log its unexpected errors go to. */
export interface ServiceErrors {
  /** The fully qualified service names it covers (parley.chat.v1.ChatService). */
  services: readonly string[];
  map: ErrorMapper;
  logger: Logger;
}

/** What a caller is told when something this service depends on failed and no words for it were given. */
const SOME_DEPENDENCY_UNAVAILABLE = "a service this call needs is unavailable; retry";
/** At most one "unavailable" warning per this many ms per translator: an outage fails every request. */
const OUTAGE_LOG_INTERVAL_MS = 1_000;

/**
 * The edge between domain and transport, for one service: domain errors
 * become statuses with messages meant for the client developer; an outage
 * of a dependency becomes UNAVAILABLE (retryable) saying in words what is
 * unavailable; anything else is logged with its cause and answered INTERNAL
 * without details. Internal addresses and downstream error texts ("connect
 * ECONNREFUSED 127.0.0.1:7002") go to the log only, never to the caller.
 *
 * In order:
 * 1. DependencyUnavailable (an adapter's words for an outage) -> UNAVAILABLE.
 * 2. A ConnectError the handler let through: UNAVAILABLE and DEADLINE_EXCEEDED
 *    come from a call this service made (its own statuses come from `map`),
 *    so they become UNAVAILABLE with generic words; INTERNAL, UNKNOWN and
 *    DATA_LOSS become "internal error"; the rest (a caller's mistake, phrased
 *    here or by the service behind) pass unchanged.
 * 3. The service's mapper.
 * 4. Any other outage (a lost database the mapper did not name) -> UNAVAILABLE.
 * 5. INTERNAL "internal error", logged as unexpected with its stack.
 */
export class ErrorTranslator {
  private lastOutageLog = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly map: ErrorMapper,
    private readonly logger: Logger,
  ) {}

  /** The status the caller sees for `err`, thrown while serving `method`. */
  status(err: unknown, method: string): ConnectError {
    if (err instanceof DependencyUnavailable) return this.outage(new ConnectError(err.message, Code.Unavailable), err.cause, method);
    if (err instanceof ConnectError) return this.relayed(err, method);
    const mapped = this.map(err);
    if (mapped) return mapped.code === Code.Unavailable && mapped.cause !== undefined ? this.outage(mapped, mapped.cause, method) : mapped;
    if (isOutage(err)) return this.outage(new ConnectError(SOME_DEPENDENCY_UNAVAILABLE, Code.Unavailable), err, method);
    return this.internal(err, method);
  }

  private relayed(err: ConnectError, method: string): ConnectError {
    switch (err.code) {
      case Code.Unavailable:
      case Code.DeadlineExceeded:
        return this.outage(new ConnectError(SOME_DEPENDENCY_UNAVAILABLE, Code.Unavailable), err, method);
      case Code.Internal:
      case Code.Unknown:
      case Code.DataLoss:
        return this.internal(err, method);
      default:
        return err;
    }
  }

  private outage(status: ConnectError, cause: unknown, method: string): ConnectError {
    const now = Date.now();
    if (now - this.lastOutageLog >= OUTAGE_LOG_INTERVAL_MS) {
      // Warn, not error: an outage is expected to pass; `suppressed` counts the answers not logged since the last line.
      this.logger.warn({ err: cause, method, status: status.rawMessage, suppressed: this.suppressed }, "answered UNAVAILABLE");
      this.lastOutageLog = now;
      this.suppressed = 0;
    } else {
      this.suppressed++;
    }
    return status;
  }

  private internal(err: unknown, method: string): ConnectError {
    this.logger.error({ err, method }, "unexpected error");
    return new ConnectError("internal error", Code.Internal);
  }
}

/** An interceptor that translates every error of the services it serves with one mapping (see ErrorTranslator). */
export function errorInterceptor(map: ErrorMapper, logger: Logger): Interceptor {
  const translator = new ErrorTranslator(map, logger);
  return translating(() => translator);
}

/**
 * For a server that carries several services (npm start's internal port):
 * each call's errors are translated by the mapping of the service it
 * called, so every service keeps its documented codes and logs to its own
 * logger. Services not listed (health) get no domain mapping and log to
 * `fallback`. One interceptor rather than one per service, because each
 * would turn the others' domain errors into INTERNAL.
 */
export function errorInterceptorByService(scopes: readonly ServiceErrors[], fallback: Logger): Interceptor {
  const byService = new Map<string, ErrorTranslator>();
  for (const scope of scopes) {
    const translator = new ErrorTranslator(scope.map, scope.logger);
    for (const service of scope.services) byService.set(service, translator);
  }
  const unscoped = new ErrorTranslator(() => undefined, fallback);
  return translating((service) => byService.get(service) ?? unscoped);
}

function translating(translatorFor: (service: string) => ErrorTranslator): Interceptor {
  return (next) => async (req) => {
    const translator = translatorFor(req.service.typeName);
    const method = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* messages;
          } catch (err) {
            throw translator.status(err, method);
          }
        })(),
      };
    } catch (err) {
      throw translator.status(err, method);
    }
  };
}
