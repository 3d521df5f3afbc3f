import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { NotifyService, type SendRequest, type SendResponse } from "@parley/contracts/parley/notify/v1/notify";
import { TurnBatch, type Logger } from "@parley/runtime";
import type { DisplayNames, MessageStore, NewMessagePush, PushNotifier } from "../ports.js";
import { additionOf } from "../domain/added-to-group.js";
import { addedToGroupRequest, newMessageEventId, newMessageRequest, PREVIEW_MAX_CHARS, previewText } from "./notify-request.js";
import { DEFAULT_RETRY, failureCode, retried, type RetryPolicy } from "./retry-policy.js";
import { TtlCache } from "./ttl-cache.js";
import { WorkQueue } from "./work-queue.js";

/** Badges count unread messages up to this (apps show "999+"), so a user with a huge backlog costs a bounded count per push. */
export const BADGE_COUNT_CAP = 999;

/** Most hand-offs one SendBatch carries (notify takes up to 500). */
export const SENDS_PER_CALL = 500;
/** SendBatch calls out at once; hand-offs ready meanwhile wait and go together. */
const CALLS_IN_FLIGHT = 4;

/** How a hand-off ended (the outcome label of parley_chat_push_handoffs_total). */
export const HANDOFF_RESULTS = ["sent", "duplicate", "dropped", "failed"] as const;
export type HandoffResult = (typeof HANDOFF_RESULTS)[number];

export interface NotifyPushOptions {
  /** To NotifyService: gRPC in the mesh (chat's service token on every call), in process in the embedded mode. */
  transport: Transport;
  store: Pick<MessageStore, "getConversation" | "totalUnread">;
  names: DisplayNames;
  logger: Logger;
  onResult?: (result: HandoffResult) => void;
  /** Hand-offs that may wait (default 10,000). */
  capacity?: number;
  /** Hand-offs in flight at once (default 256): their requests are built (store reads) and sent in batches of those ready together. */
  concurrency?: number;
  retry?: RetryPolicy;
  /** The deadline of one SendBatch call (default 5 s); a hung call counts as DEADLINE_EXCEEDED for each of its hand-offs, which are retried. */
  callTimeoutMs?: number;
}

/**
 * The PushNotifier on notify's NotifyService.Send (its promises are on the
 * port). The content is gathered once per hand-off, when it leaves the
 * queue: the sender's display name, the group's name and the recipient's
 * total unread count as the badge. A retry resends that same request, since
 * notify refuses an event id reused with other content. The requests ready
 * in one event-loop turn go to notify in one SendBatch (a few calls out at
 * once; what is ready meanwhile waits and goes together), so a burst of
 * offline recipients is a few calls, not one per push; each answer is the
 * hand-off's own, as Send's would be.
 */
export class NotifyPushNotifier implements PushNotifier {
  private readonly client;
  private readonly queue: WorkQueue<NewMessagePush>;
  private readonly retry: RetryPolicy;
  private readonly sends = new TurnBatch<SendRequest, SendResponse | ConnectError>((requests) => this.sendMany(requests), SENDS_PER_CALL, CALLS_IN_FLIGHT);
  /** Aborts the calls in flight when closing (a batch serves many hand-offs, so no one hand-off's signal can). */
  private readonly closing = new AbortController();
  // A rename reaches pushes within 30 s; until then a burst in a group costs one conversation read.
  private readonly groupNames = new TtlCache<bigint, string | undefined>({ ttlMs: 30_000, maxEntries: 10_000 });
  private closed = false;
  private unloggedDrops = 0;
  private lastDropLogAt = -Infinity;

  constructor(private readonly o: NotifyPushOptions) {
    this.client = createClient(NotifyService, o.transport);
    this.retry = o.retry ?? DEFAULT_RETRY;
    this.queue = new WorkQueue({
      capacity: o.capacity ?? 10_000,
      concurrency: o.concurrency ?? 256,
      run: (push, signal) => this.handOff(push, signal),
      onError: (err) => o.logger.error({ err }, "push hand-off failed unexpectedly"),
    });
  }

  newMessage(push: NewMessagePush, settled?: (outcome: "ended" | "abandoned") => void): void {
    if (this.closed) {
      settled?.("abandoned");
      return;
    }
    // Only the preview goes on, so 10,000 waiting hand-offs of long texts stay a few tens of MB.
    const { message } = push;
    const job = message.text.length > PREVIEW_MAX_CHARS ? { ...push, message: { ...message, text: previewText(message.text) } } : push;
    // A newer message in the same conversation replaces one still waiting: the device would show only the newest anyway.
    const taken = this.queue.offer(job, `${push.recipientId}:${message.conversationId}`, settled && ((ran) => settled(ran ? "ended" : "abandoned")));
    if (!taken) {
      this.drop();
      settled?.("ended");
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    await this.queue.close();
  }

  /** Sends until notify takes it, refuses it for good, or the attempts run out; returns quietly once closing. */
  private async handOff(push: NewMessagePush, signal: AbortSignal): Promise<void> {
    let request: SendRequest | undefined;
    const event = () => request?.eventId ?? newMessageEventId(push.message.messageId, push.recipientId);
    const result = await retried(
      async () => {
        request ??= await this.request(push);
        const answer = await this.sends.ask(request);
        if (answer instanceof ConnectError) throw answer;
        return answer;
      },
      this.retry,
      signal,
      (code, attempt) => this.o.logger.debug({ code: Code[code], event: event(), attempt }, "push hand-off to notify failed; retrying"),
    );
    if (result === undefined) return;
    if (result.ok) return this.report(result.value.duplicate ? "duplicate" : "sent");
    // The event id was taken with other content (the same hand-off again after a
    // bus redelivery, the sender renamed in between): the first one got through.
    if (result.code === Code.AlreadyExists) return this.report("duplicate");
    this.o.logger.warn({ err: result.err, code: Code[result.code], event: event(), attempts: result.attempts }, "push hand-off to notify failed");
    this.report("failed");
  }

  /**
   * One call for the requests of a turn, an answer per request. A batch
   * refused as a whole with INVALID_ARGUMENT (one request broke the rules
   * every request shares) or UNIMPLEMENTED (a notify older than SendBatch,
   * during a rolling upgrade) is sent again one Send per request, so one bad
   * request never fails the others.
   */
  private async sendMany(requests: SendRequest[]): Promise<(SendResponse | ConnectError)[]> {
    const options = { signal: this.closing.signal, timeoutMs: this.o.callTimeoutMs ?? 5_000 };
    try {
      const { outcomes } = await this.client.sendBatch({ requests }, options);
      if (outcomes.length !== requests.length) throw new ConnectError(`notify answered ${outcomes.length} of ${requests.length} sends`, Code.Internal);
      return outcomes.map(({ outcome }) =>
        outcome.case === "sent" ? outcome.value : new ConnectError(outcome.value?.message ?? "notify gave no answer", outcome.value?.code ?? Code.Internal),
      );
    } catch (err) {
      const code = failureCode(err);
      if (code !== Code.Unimplemented && code !== Code.InvalidArgument) throw err;
      return Promise.all(requests.map((request) => this.client.send(request, options).catch((e: unknown) => ConnectError.from(e))));
    }
  }

  private async request(push: NewMessagePush): Promise<SendRequest> {
    const { message, recipientId } = push;
    const addition = additionOf(message, recipientId);
    const actorId = addition?.byUserId ?? message.senderId;
    const [actorName, groupName, badge] = await Promise.all([
      this.o.names.displayName(actorId),
      addition?.groupName ??
        this.groupNames.get(message.conversationId, async () => {
          const conversation = await this.o.store.getConversation(message.conversationId);
          return conversation?.kind === "group" ? conversation.name : undefined;
        }),
      this.o.store.totalUnread(recipientId, BADGE_COUNT_CAP),
    ]);
    if (actorName === undefined) throw new ConnectError(`user ${actorId} has no profile`, Code.NotFound);
    if (addition !== undefined) {
      const { messageId, conversationId } = message;
      return addedToGroupRequest({ recipientId, messageId, conversationId, groupName: groupName ?? "a group", byName: actorName, badge });
    }
    return newMessageRequest({ push, senderName: actorName, groupName, badge });
  }

  /** Counts every drop but warns at most once a second, saying how many went since the last warning. */
  private drop(): void {
    this.report("dropped");
    this.unloggedDrops++;
    const now = Date.now();
    if (now - this.lastDropLogAt < 1_000) return;
    this.o.logger.warn({ dropped: this.unloggedDrops, waiting: this.queue.size }, "push queue full: dropping pushes (the messages stay in the inboxes)");
    this.unloggedDrops = 0;
    this.lastDropLogAt = now;
  }

  private report(result: HandoffResult): void {
    this.o.onResult?.(result);
  }
}
