import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "./logger.js";

/** Maps a service's domain error to a status, or returns undefined for an unexpected error. */
export type ErrorMapper = (err: unknown) => ConnectError | undefined;

/**
 * The edge between domain and transport: domain errors become statuses with
 * messages meant for the client developer; anything unexpected is logged
 * with its cause and answered as INTERNAL without details, so internals
 * never leak to clients.
 */
export function errorInterceptor(map: ErrorMapper, logger: Logger): Interceptor {
  const translate = (err: unknown, method: string): ConnectError => {
    if (err instanceof ConnectError) return err;
    const mapped = map(err);
    if (mapped) return mapped;
    logger.error({ err, method }, "unexpected error");
    return new ConnectError("internal error", Code.Internal);
  };
  return (next) => async (req) => {
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
            throw translate(err, method);
          }
        })(),
      };
    } catch (err) {
      throw translate(err, method);
    }
  };
}
