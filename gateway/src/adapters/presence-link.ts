import { create } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import {
  PresenceService,
  SessionEventKind,
  SessionEventSchema,
  SessionsRequestSchema,
  type PresenceUpdate,
  type SessionEvent,
  type SessionsRequest,
} from "@parley/contracts/parley/presence/v1/presence";
import { AsyncQueue, TickBatcher, type Logger } from "@parley/runtime";

/**
 * The gateway's stream to one presence instance: device connects, disconnects and
 * heartbeats go up in batches (one stream message per event-loop turn),
 * friends' status changes come down for the devices here. When the stream
 * breaks it is reopened with a hello listing every session this gateway
 * holds (of the users that instance owns: `sessions` filters), so a
 * restarted presence recovers status without clients reconnecting.
 */
export class PresenceLink {
  private readonly client;
  private stream: { requests: AsyncQueue<SessionsRequest>; batcher: TickBatcher<SessionEvent>; abort: AbortController } | undefined;
  private closed = false;

  constructor(
    transport: Transport,
    private readonly gatewayId: string,
    private readonly sessions: () => { userId: bigint; deviceId: bigint }[],
    private readonly onUpdate: (update: PresenceUpdate) => void,
    private readonly logger: Logger,
  ) {
    this.client = createClient(PresenceService, transport);
  }

  connect(): void {
    this.open();
  }

  connected(userId: bigint, deviceId: bigint): void {
    this.event(userId, deviceId, SessionEventKind.CONNECTED);
  }

  disconnected(userId: bigint, deviceId: bigint): void {
    this.event(userId, deviceId, SessionEventKind.DISCONNECTED);
  }

  heartbeat(userId: bigint, deviceId: bigint): void {
    this.event(userId, deviceId, SessionEventKind.HEARTBEAT);
  }

  /**
   * Sends a fresh hello on the open stream (the sessions this instance owns
   * now), replacing the previous one at presence: the instance set changed.
   * While the stream is down there is nothing to do: reopening says hello.
   */
  reannounce(): void {
    this.stream?.requests.push(this.hello());
  }

  close(): void {
    this.closed = true;
    this.stream?.requests.close();
    this.stream?.abort.abort();
    this.stream = undefined;
  }

  private event(userId: bigint, deviceId: bigint, kind: SessionEventKind): void {
    // While the stream is down, events are dropped: the hello on reopening carries the truth.
    this.stream?.batcher.add(create(SessionEventSchema, { userId, deviceId, kind }));
  }

  private open(): void {
    if (this.closed || this.stream) return;
    const requests = new AsyncQueue<SessionsRequest>();
    const batcher = new TickBatcher<SessionEvent>((events) => requests.push(create(SessionsRequestSchema, { events })));
    const stream = { requests, batcher, abort: new AbortController() };
    this.stream = stream;
    requests.push(this.hello());
    void (async () => {
      try {
        for await (const response of this.client.sessions(requests, { signal: stream.abort.signal })) {
          for (const update of response.updates) this.onUpdate(update);
        }
      } catch (err) {
        if (!stream.abort.signal.aborted) this.logger.warn({ err }, "presence stream broke");
      }
      if (this.stream === stream) {
        this.stream = undefined;
        if (!this.closed) setTimeout(() => this.open(), 1_000).unref();
      }
    })();
  }

  private hello(): SessionsRequest {
    return create(SessionsRequestSchema, {
      hello: { gatewayId: this.gatewayId, sessions: this.sessions().map((s) => ({ ...s, gatewayId: this.gatewayId })) },
    });
  }
}
