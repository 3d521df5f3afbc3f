import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { ChatService, StreamRequestSchema, type Command, type Reply, type StreamRequest } from "@parley/contracts/parley/chat/v1/chat";
import { AsyncQueue, InFlight, PacedBatcher, type Logger, type PacedBatch } from "@parley/runtime";
import type { CommandOrigin } from "../ports.js";

type Op = Command["op"];

interface Pending {
  resolve: (result: Reply["result"]) => void;
  reject: (err: ConnectError) => void;
  sentAt: number;
  batch: PacedBatch | undefined;
  stream: Stream;
}

interface Stream {
  requests: AsyncQueue<StreamRequest>;
  batcher: PacedBatcher<Command>;
  abort: AbortController;
  answered: boolean;
}

/**
 * A command waiting this long while nothing at all has come back on the
 * stream for as long means the instance has stopped answering (SIGSTOPped,
 * hung): its TCP connection stays open, so nothing else would tell. Short
 * enough that a resent command is acked within 2 s; a busy instance keeps
 * answering other commands meanwhile, so it is not taken for silent.
 */
export const SILENT_AFTER_MS = 1_200;

/**
 * How commands leave for chat: in batches, at most `maxUnansweredBatches`
 * of them out without all their replies; commands arriving meanwhile wait
 * (at most `holdMs`) and leave together (PacedBatcher). With `lingerMs`,
 * while commands keep coming, each batch waits that long for others to
 * join it, even with none out.
 */
export interface CommandPacing {
  maxUnansweredBatches: number;
  holdMs: number;
  lingerMs: number;
}

/** Every turn's commands leave at the end of the turn. */
export const UNPACED: CommandPacing = { maxUnansweredBatches: Number.POSITIVE_INFINITY, holdMs: 0, lingerMs: 0 };

/**
 * The gateway's one long-lived, multiplexed stream to chat. Commands from all
 * devices leave in batches, paced by chat's replies (CommandPacing: under
 * load each batch carries what arrived during the last one's round trip, so
 * chat, its store and its lookups wake once per batch); replies are matched by
 * correlation id. If the stream breaks, commands in flight fail as
 * UNAVAILABLE (retryable) and the next command opens a new stream. The link
 * counts as up once chat has answered its hello, and stops counting when
 * the instance falls silent (SILENT_AFTER_MS): the stream is then broken,
 * and opened again a second later, to be up when the instance answers.
 */
export class ChatLink {
  private readonly client;
  /** Commands waiting for their replies, under their correlation ids. */
  private readonly pending = new InFlight<Pending>();
  private stream: Stream | undefined;
  private closed = false;
  private lastHeard = 0;
  private readonly watchdog: NodeJS.Timeout | undefined;
  /** Armed while commands wait, for the oldest one's deadline (see expire). */
  private deadline: NodeJS.Timeout | undefined;

  /**
   * `watchSilence`: break the stream when chat falls silent (SILENT_AFTER_MS).
   * Off for chat in this very process (npm start): it cannot be stopped apart
   * from the gateway, so a silence there is a slow store, which breaking the
   * stream would only turn into failed commands.
   */
  constructor(
    transport: Transport,
    private readonly hello: { gatewayId: string; deliverAddress: string },
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly pacing: CommandPacing = UNPACED,
    watchSilence = true,
  ) {
    this.client = createClient(ChatService, transport);
    if (watchSilence) {
      // Checked often, so a silence is acted on soon after it reaches the bound (a tick is cheap).
      this.watchdog = setInterval(() => this.checkSilence(), SILENT_AFTER_MS / 8);
      this.watchdog.unref();
    }
  }

  call(userId: bigint, deviceId: bigint, op: Op, origin?: CommandOrigin): Promise<Reply["result"]> {
    if (this.closed) return Promise.reject(new ConnectError("the gateway is shutting down", Code.Unavailable));
    return new Promise((resolve, reject) => {
      const stream = this.open();
      const waiter: Pending = { resolve, reject, sentAt: performance.now(), batch: undefined, stream };
      // A literal, not create(): one per command, on the hot path (docs/performance.md).
      const command: Command = {
        $typeName: "parley.chat.v1.Command",
        correlationId: BigInt(this.pending.add(waiter)),
        userId,
        deviceId,
        op,
        traceparent: origin?.traceparent ?? "",
        sessionId: origin?.sessionId ?? 0n,
        frameId: origin?.frameId ?? 0n,
      };
      waiter.batch = stream.batcher.add(command);
      this.deadline ??= this.armDeadline(this.timeoutMs);
    });
  }

  /** True once chat answered this stream's hello; false from a break or a silence until it answers again. */
  get isUp(): boolean {
    return this.stream?.answered === true;
  }

  /** Opens the stream now (at start), so chat learns about this gateway before any device speaks. */
  connect(): void {
    this.open();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.watchdog);
    clearTimeout(this.deadline);
    this.fail(new ConnectError("the gateway is shutting down", Code.Unavailable));
    this.stream?.batcher.reset();
    this.stream?.requests.close();
    this.stream?.abort.abort();
    this.stream = undefined;
  }

  private open() {
    if (this.stream) return this.stream;
    const requests = new AsyncQueue<StreamRequest>();
    const batcher = new PacedBatcher<Command>(
      (commands) => requests.push(create(StreamRequestSchema, { commands })),
      this.pacing.maxUnansweredBatches,
      this.pacing.holdMs,
      this.pacing.lingerMs,
    );
    const abort = new AbortController();
    const stream: Stream = { requests, batcher, abort, answered: false };
    this.stream = stream;
    requests.push(create(StreamRequestSchema, { hello: this.hello }));
    void this.read(stream);
    return stream;
  }

  private async read(stream: Stream): Promise<void> {
    try {
      for await (const response of this.client.stream(stream.requests, { signal: stream.abort.signal })) {
        this.lastHeard = performance.now();
        stream.answered = true;
        for (const reply of response.replies) {
          const waiter = this.pending.take(Number(reply.correlationId));
          if (!waiter) continue;
          waiter.stream.batcher.answered(waiter.batch!);
          waiter.resolve(reply.result);
        }
      }
    } catch (err) {
      if (!stream.abort.signal.aborted) this.logger.warn({ err }, "chat stream broke");
    }
    if (this.stream === stream) this.drop("the chat service is unreachable; retry");
  }

  /**
   * Fails the commands that waited timeoutMs without a reply, and arms the
   * next deadline. One timer for all of them, not one per command: a timer
   * per command cost a timer-list insert and removal each, and kept the
   * command's objects alive through young-generation collections, which
   * promoted them and lengthened every pause (docs/performance.md). Commands
   * wait in the order they were sent, so the first one still in time ends
   * the walk.
   */
  private expire(): void {
    this.deadline = undefined;
    const now = performance.now();
    for (const [id, waiter] of this.pending.entries()) {
      const left = waiter.sentAt + this.timeoutMs - now;
      if (left > 0) {
        this.deadline = this.armDeadline(left);
        return;
      }
      this.pending.take(id);
      waiter.stream.batcher.answered(waiter.batch!);
      // A downstream too slow to answer is an outage to the device: UNAVAILABLE, retry.
      waiter.reject(new ConnectError("the chat service did not answer in time; retry", Code.Unavailable));
    }
  }

  private armDeadline(ms: number): NodeJS.Timeout {
    // Unref'd: the stream's socket keeps a gateway alive while commands wait; this timer alone must not.
    return setTimeout(() => this.expire(), ms).unref();
  }

  /** Breaks a silent stream: its commands fail now (devices resend them elsewhere), and the stream is opened again later. */
  private checkSilence(): void {
    const oldest = this.pending.oldest();
    if (oldest === undefined || this.stream === undefined) return;
    const now = performance.now();
    if (now - oldest.sentAt < SILENT_AFTER_MS || now - this.lastHeard < SILENT_AFTER_MS) return;
    this.logger.warn({ silentMs: Math.round(now - Math.max(this.lastHeard, oldest.sentAt)) }, "chat instance stopped answering; its users move on");
    const stream = this.stream;
    stream.abort.abort();
    stream.requests.close();
    this.drop("the chat instance stopped answering; retry");
  }

  private drop(reason: string): void {
    this.stream?.batcher.reset();
    this.stream = undefined;
    this.fail(new ConnectError(reason, Code.Unavailable));
    // Reopen so chat knows this gateway again as soon as it is back.
    if (!this.closed) setTimeout(() => !this.closed && !this.stream && this.open(), 1_000).unref();
  }

  private fail(err: ConnectError): void {
    for (const waiter of this.pending.takeAll()) waiter.reject(err);
  }
}
