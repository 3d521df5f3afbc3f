import { create } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  PresenceService,
  SessionEventKind,
  SessionsResponseSchema,
  type PresenceUpdate,
  type SessionsRequest,
  type SessionsResponse,
} from "@parley/contracts/parley/presence/v1/presence";
import { AsyncQueue, TickBatcher, withFieldChecks, type Logger } from "@parley/runtime";
import { InvalidInput } from "./errors.js";
import type { PresenceHub } from "./hub.js";
import { LOCATE_MAX, serveLocateStream } from "./locate-stream.js";
import { relayStatuses } from "./relay.js";

/** Wiring: PresenceService on the hub. */
export function presenceRoutes(hub: PresenceHub, logger: Logger, stopping: AbortSignal): (router: ConnectRouter) => void {
  const impl: ServiceImpl<typeof PresenceService> = {
    sessions: (requests, ctx) => serveSessions(requests, ctx, hub, logger, stopping),
    async locateDevices(req) {
      if (req.userIds.length > LOCATE_MAX) throw new InvalidInput("user_ids", `must name at most ${LOCATE_MAX} users`);
      return { sessions: hub.locate(req.userIds) };
    },
    locateDevicesStream: (requests, ctx) => serveLocateStream(requests, ctx, hub, logger, stopping),
    async getPresence(req) {
      return { presences: await hub.getPresence(req.viewerId, req.userIds) };
    },
    async relayStatuses(req) {
      relayStatuses(hub, req);
      return {};
    },
  };
  // Every request first passes the rules all requests share (ids fit SQL bigint, no NUL in text).
  return (router) =>
    router.service(
      PresenceService,
      withFieldChecks(PresenceService, impl, (problem) => new InvalidInput(problem.field, problem.rule)),
    );
}

export const presenceServiceNames = [PresenceService.typeName];

/**
 * One gateway's stream: the hello registers its sessions, then events are
 * applied in order (a later hello from the same gateway replaces its
 * sessions, as the first did); updates for its devices leave batched per
 * turn. When the
 * stream ends the gateway counts as lost: its sessions expire after the grace
 * period unless it says hello again.
 */
function serveSessions(
  requests: AsyncIterable<SessionsRequest>,
  ctx: HandlerContext,
  hub: PresenceHub,
  logger: Logger,
  stopping: AbortSignal,
): AsyncIterable<SessionsResponse> {
  const out = new AsyncQueue<SessionsResponse>();
  const batcher = new TickBatcher<PresenceUpdate>((updates) => out.push(create(SessionsResponseSchema, { updates })));
  const stop = () => out.close();
  stopping.addEventListener("abort", stop, { once: true });
  void (async () => {
    let gatewayId: string | undefined;
    try {
      for await (const request of requests) {
        if (request.hello && gatewayId === undefined) {
          gatewayId = request.hello.gatewayId;
          await hub.gatewayHello(gatewayId, request.hello.sessions, (update) => batcher.add(update));
        } else if (request.hello && request.hello.gatewayId === gatewayId) {
          // A later hello: the gateway re-shared its sessions after the presence instance set changed.
          hub.gatewayRehello(gatewayId, request.hello.sessions);
        }
        if (gatewayId === undefined) continue; // events before a hello have no gateway: dropped
        for (const event of request.events) {
          if (event.kind === SessionEventKind.CONNECTED) void hub.connected(gatewayId, event.userId, event.deviceId);
          else if (event.kind === SessionEventKind.DISCONNECTED) hub.disconnected(gatewayId, event.userId, event.deviceId);
          else if (event.kind === SessionEventKind.HEARTBEAT) hub.heartbeat(gatewayId, event.userId, event.deviceId);
        }
      }
    } catch (err) {
      if (!ctx.signal.aborted) logger.warn({ err, gatewayId }, "gateway session stream failed");
    } finally {
      stopping.removeEventListener("abort", stop);
      if (gatewayId !== undefined) hub.gatewayLost(gatewayId);
      setImmediate(() => out.close());
    }
  })();
  return out;
}
