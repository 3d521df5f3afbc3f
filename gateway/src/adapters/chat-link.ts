import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { ChatService, CommandSchema, StreamRequestSchema, type Command, type Reply, type StreamRequest } from "@parley/contracts/parley/chat/v1/chat";
import { AsyncQueue, TickBatcher, type Logger } from "@parley/runtime";

type Op = Command["op"];

interface Pending {
  resolve: (result: Reply["result"]) => void;
  reject: (err: ConnectError) => void;
  timer: NodeJS.Timeout;
}

/**
 * The gateway's one long-lived, multiplexed stream to chat. Commands from all
 * devices are batched per event-loop turn; replies are matched by
 * correlation id. If the stream breaks, commands in flight fail as
 * UNAVAILABLE (retryable) and the next command opens a new stream.
 */
export class ChatLink {
  private readonly client;
  private readonly pending = new Map<bigint, Pending>();
  private nextId = 1n;
  private stream: { requests: AsyncQueue<StreamRequest>; batcher: TickBatcher<Command>; abort: AbortController } | undefined;
  private closed = false;

  constructor(
    transport: Transport,
    private readonly hello: { gatewayId: string; deliverAddress: string },
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.client = createClient(ChatService, transport);
  }

  call(userId: bigint, deviceId: bigint, op: Op): Promise<Reply["result"]> {
    if (this.closed) return Promise.reject(new ConnectError("the gateway is shutting down", Code.Unavailable));
    const correlationId = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        // A downstream too slow to answer is an outage to the device: UNAVAILABLE, retry.
        reject(new ConnectError("the chat service did not answer in time; retry", Code.Unavailable));
      }, this.timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
      this.open().batcher.add(create(CommandSchema, { correlationId, userId, deviceId, op }));
    });
  }

  /** False from a break until the stream is reopened (after a second): commands sent meanwhile would wait for a reconnect. */
  get isUp(): boolean {
    return this.stream !== undefined;
  }

  /** Opens the stream now (at start), so chat learns about this gateway before any device speaks. */
  connect(): void {
    this.open();
  }

  close(): void {
    this.closed = true;
    this.fail(new ConnectError("the gateway is shutting down", Code.Unavailable));
    this.stream?.requests.close();
    this.stream?.abort.abort();
    this.stream = undefined;
  }

  private open() {
    if (this.stream) return this.stream;
    const requests = new AsyncQueue<StreamRequest>();
    const batcher = new TickBatcher<Command>((commands) => requests.push(create(StreamRequestSchema, { commands })));
    const abort = new AbortController();
    const stream = { requests, batcher, abort };
    this.stream = stream;
    requests.push(create(StreamRequestSchema, { hello: this.hello }));
    void this.read(stream);
    return stream;
  }

  private async read(stream: NonNullable<ChatLink["stream"]>): Promise<void> {
    try {
      for await (const response of this.client.stream(stream.requests, { signal: stream.abort.signal })) {
        for (const reply of response.replies) {
          const waiter = this.pending.get(reply.correlationId);
          if (!waiter) continue;
          this.pending.delete(reply.correlationId);
          clearTimeout(waiter.timer);
          waiter.resolve(reply.result);
        }
      }
    } catch (err) {
      if (!stream.abort.signal.aborted) this.logger.warn({ err }, "chat stream broke");
    }
    if (this.stream === stream) {
      this.stream = undefined;
      this.fail(new ConnectError("the chat service is unreachable; retry", Code.Unavailable));
      // Reopen so chat knows this gateway again as soon as it is back.
      if (!this.closed) setTimeout(() => !this.closed && !this.stream && this.open(), 1_000).unref();
    }
  }

  private fail(err: ConnectError): void {
    for (const [id, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
      this.pending.delete(id);
    }
  }
}
