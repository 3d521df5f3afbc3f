import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import {
  LocateDevicesStreamRequestSchema,
  LocateDevicesStreamResponseSchema,
  type LocateDevicesStreamRequest,
  type LocateDevicesStreamResponse,
} from "@parley/contracts/parley/presence/v1/presence";
import { AsyncQueue, firstFieldProblem, type Logger } from "@parley/runtime";
import { InvalidInput } from "./errors.js";
import type { PresenceHub } from "./hub.js";

/** Most users one lookup may name, on LocateDevices and on each LocateDevicesStream request alike. */
export const LOCATE_MAX = 1_000;

/**
 * One caller's LocateDevicesStream (chat keeps one per process): each
 * request is answered at once, in arrival order, from the same in-memory
 * table LocateDevices reads, so pipelined requests cost a stream message
 * each instead of a unary call. A request breaking a rule ends the stream
 * with INVALID_ARGUMENT naming it (the error interceptor maps InvalidInput),
 * since a caller that sends one has a bug, not a bad lookup. The stream also
 * ends when presence drains, so a shutdown is never held up by it.
 */
export function serveLocateStream(
  requests: AsyncIterable<LocateDevicesStreamRequest>,
  ctx: HandlerContext,
  hub: PresenceHub,
  logger: Logger,
  stopping: AbortSignal,
): AsyncIterable<LocateDevicesStreamResponse> {
  const out = new AsyncQueue<LocateDevicesStreamResponse>();
  const stop = () => out.close();
  if (stopping.aborted) stop(); // opened while draining: ends at once, the caller reopens elsewhere
  stopping.addEventListener("abort", stop, { once: true });
  void (async () => {
    try {
      for await (const request of requests) {
        const refusal = refusalOf(request);
        if (refusal) return out.fail(refusal);
        out.push(
          create(LocateDevicesStreamResponseSchema, {
            requestId: request.requestId,
            sessions: hub.locate(request.userIds),
            unsettledUserIds: hub.unsettled(request.userIds),
          }),
        );
      }
      out.close();
    } catch (err) {
      if (!ctx.signal.aborted) logger.warn({ err }, "locate stream failed");
      out.close();
    } finally {
      stopping.removeEventListener("abort", stop);
    }
  })();
  return out;
}

/** The rules of a lookup: at most LOCATE_MAX users, and the rules every request shares. */
export function refusalOf(request: LocateDevicesStreamRequest): InvalidInput | undefined {
  const named = `request ${request.requestId}: user_ids`;
  if (request.userIds.length > LOCATE_MAX) return new InvalidInput(named, `must name at most ${LOCATE_MAX} users`);
  const problem = firstFieldProblem(LocateDevicesStreamRequestSchema, request);
  return problem === undefined ? undefined : new InvalidInput(`request ${request.requestId}: ${problem.field}`, problem.rule);
}
