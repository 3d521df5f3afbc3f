import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  ChatModerationService,
  ChatService,
  ReplySchema,
  StreamResponseSchema,
  type Command,
  type GatewayHello,
  type Reply,
  type StreamRequest,
  type StreamResponse,
} from "@parley/contracts/parley/chat/v1/chat";
import {
  actingUserKey,
  AsyncQueue,
  contextOf,
  endSpan,
  ErrorTranslator,
  SpanKind,
  startSpan,
  TickBatcher,
  withRequestId,
  withSpan,
  type ErrorMapper,
  type Logger,
} from "@parley/runtime";
import type { Actor, Chat } from "./domain/chat.js";
import type { Groups } from "./domain/groups.js";
import { chatCommands, type ChatCommands } from "./commands.js";
import { InvalidInput } from "./errors.js";
import { chatModerationApi } from "./moderation-api.js";

export interface ChatServerDeps {
  chat: Chat;
  groups: Groups;
  /** Turns domain errors into statuses (inside the Stream, where interceptors do not reach). */
  mapError: ErrorMapper;
  logger: Logger;
  /** Called when a gateway opens its Stream; returns the cleanup for when it ends. */
  onGateway: (hello: GatewayHello) => () => void;
  /** Aborted at shutdown: open Streams end so gateways reconnect elsewhere. */
  stopping: AbortSignal;
}

/** Wiring: ChatService on the domain; unary RPCs and the gateway Stream share one command table. */
export function chatRoutes(deps: ChatServerDeps): (router: ConnectRouter) => void {
  const commands = chatCommands(deps.chat, deps.groups);
  const impl: ServiceImpl<typeof ChatService> = {
    send: (req, ctx) => commands.send(actorFrom(ctx), req),
    sync: (req, ctx) => commands.sync(actorFrom(ctx), req),
    history: (req, ctx) => commands.history(actorFrom(ctx), req),
    markRead: (req, ctx) => commands.markRead(actorFrom(ctx), req),
    ackCursor: (req, ctx) => commands.ackCursor(actorFrom(ctx), req),
    setTyping: (req, ctx) => commands.setTyping(actorFrom(ctx), req),
    listConversations: (req, ctx) => commands.listConversations(actorFrom(ctx), req),
    openDirect: (req, ctx) => commands.openDirect(actorFrom(ctx), req),
    getConversation: (req, ctx) => commands.getConversation(actorFrom(ctx), req),
    getReceipts: (req, ctx) => commands.getReceipts(actorFrom(ctx), req),
    createGroup: (req, ctx) => commands.createGroup(actorFrom(ctx), req),
    updateGroup: (req, ctx) => commands.updateGroup(actorFrom(ctx), req),
    addMembers: (req, ctx) => commands.addMembers(actorFrom(ctx), req),
    removeMember: (req, ctx) => commands.removeMember(actorFrom(ctx), req),
    setMemberRole: (req, ctx) => commands.setMemberRole(actorFrom(ctx), req),
    deleteGroup: (req, ctx) => commands.deleteGroup(actorFrom(ctx), req),
    getCursor: (req, ctx) => commands.getCursor(actorFrom(ctx), req),
    editMessage: (req, ctx) => commands.editMessage(actorFrom(ctx), req),
    deleteMessage: (req, ctx) => commands.deleteMessage(actorFrom(ctx), req),
    searchMessages: (req, ctx) => commands.searchMessages(actorFrom(ctx), req),
    react: (req, ctx) => commands.react(actorFrom(ctx), req),
    stream: (requests, ctx) => serveStream(requests, ctx, commands, deps),
  };
  return (router) => {
    router.service(ChatService, impl);
    router.service(ChatModerationService, chatModerationApi(deps.chat, deps.logger));
  };
}

export const chatServiceNames = [ChatService.typeName, ChatModerationService.typeName];

/**
 * The gateway's multiplexed stream: commands run concurrently as they
 * arrive; replies leave in batches, one stream message per event-loop turn.
 */
function serveStream(requests: AsyncIterable<StreamRequest>, ctx: HandlerContext, commands: ChatCommands, deps: ChatServerDeps): AsyncIterable<StreamResponse> {
  const out = new AsyncQueue<StreamResponse>();
  // Each command is answered with its own status, translated as the interceptor would a unary call's.
  const errors = new ErrorTranslator(deps.mapError, deps.logger);
  const batcher = new TickBatcher<Reply>((replies) => out.push(create(StreamResponseSchema, { replies })));
  let leave: (() => void) | undefined;
  let inFlight = 0;
  let ended = false;
  const finish = () => ended && inFlight === 0 && setImmediate(() => out.close()); // after the last batch
  const stop = () => out.close();
  deps.stopping.addEventListener("abort", stop, { once: true });
  void (async () => {
    try {
      for await (const request of requests) {
        if (request.hello && !leave) {
          leave = deps.onGateway(request.hello);
          out.push(create(StreamResponseSchema)); // the hello's answer: this instance serves
        }
        for (const command of request.commands) {
          inFlight++;
          void runCommand(command, commands, errors).then((reply) => {
            batcher.add(reply);
            inFlight--;
            finish();
          });
        }
      }
    } catch (err) {
      if (!ctx.signal.aborted) deps.logger.warn({ err }, "gateway stream failed");
    } finally {
      deps.stopping.removeEventListener("abort", stop);
      leave?.();
      ended = true;
      finish();
    }
  })();
  return out;
}

async function runCommand(command: Command, commands: ChatCommands, errors: ErrorTranslator): Promise<Reply> {
  const actor = { userId: command.userId, deviceId: command.deviceId };
  // The gateway's trace of the request continues here (tracing on): the store, the bus and the delivery join it.
  const parent = contextOf(command.traceparent);
  const span = parent && startSpan(`chat ${command.op.case ?? "empty"}`, SpanKind.SERVER, parent);
  try {
    const op = command.op;
    if (op.case === undefined) throw new InvalidInput("command", "is empty");
    const run = commands[op.case] as (a: Actor, r: unknown) => Promise<unknown>;
    // Without tracing, no closure per command.
    const result = await (span === undefined ? run(actor, op.value) : withSpan(span, () => run(actor, op.value)));
    endSpan(span);
    // A literal, not create(): one per command, on the hot path (docs/performance.md).
    return { $typeName: "parley.chat.v1.Reply", correlationId: command.correlationId, result: { case: op.case, value: result } as Reply["result"] };
  } catch (err) {
    // The gateway logs a failure of this request under the same request id.
    const requestId = `${command.sessionId}/${command.frameId}`;
    const status = withRequestId(requestId, () => withSpan(span, () => errors.status(err, `${ChatService.typeName}/Stream/${command.op.case ?? "empty"}`)));
    endSpan(span, err);
    return create(ReplySchema, {
      correlationId: command.correlationId,
      result: { case: "error", value: { code: status.code, message: status.rawMessage } },
    });
  }
}

/**
 * The acting user, as the access guard set it from an authenticated gateway
 * (chatAccess requires one on every unary method, so it is always there
 * behind the guard; a missing one is a wiring mistake, refused all the same).
 */
function actorFrom(ctx: HandlerContext): Actor {
  const acting = ctx.values.get(actingUserKey);
  if (acting === undefined) throw new ConnectError("no acting user: chat is reached only through a gateway", Code.Unauthenticated);
  return { userId: acting.userId, deviceId: acting.deviceId };
}
