import { ClientFrameSchema, CloseCode, ServerFrameSchema } from "@parley/contracts/parley/client/v1/client";
import { LATENCY_BUCKETS, type CounterCell, type Metrics } from "@parley/runtime";
import type { GatewayMeter, SocketMeter } from "./ports.js";

const FORMATS = ["proto", "json"] as const;

/** Client frames counted beside the requests: not decodable, no request this gateway knows, refused unread for rate. */
const CLIENT_FRAME_OUTCOMES = ["invalid", "unknown", "rate_limited"] as const;

/** The outcome label of parley_gateway_connects_total, by the HTTP status that answered the upgrade. */
const CONNECT_OUTCOMES: ReadonlyMap<number, string> = new Map([
  [101, "accepted"],
  [400, "bad_request"],
  [401, "unauthenticated"],
  [403, "forbidden"],
  [404, "not_found"],
  [429, "too_many_connections"],
  [500, "internal"],
  [503, "unavailable"],
]);

/**
 * The reason label of parley_gateway_disconnects_total for the gateway's own
 * close codes, grouped as the close-code table groups them (what the client
 * should do next); docs/protocol.md lists the codes.
 */
const SERVER_CLOSE_REASONS: ReadonlyMap<number, string> = new Map([
  [1001, "server_shutdown"],
  [CloseCode.HEARTBEAT_TIMEOUT, "heartbeat_timeout"],
  [CloseCode.SLOW_CONSUMER, "slow_consumer"],
  [CloseCode.RATE_LIMITED, "rate_limited"],
  [CloseCode.TOKEN_EXPIRED, "token_expired"],
  [CloseCode.LOGGED_OUT, "session_ended"],
  [CloseCode.SESSION_REVOKED, "session_ended"],
  [CloseCode.PASSWORD_CHANGED, "session_ended"],
  [CloseCode.ACCOUNT_DISABLED, "session_ended"],
  [CloseCode.PROTOCOL_VIOLATION, "protocol_violation"],
]);

/** The peer's close: a close frame (any code), or the connection lost without one (1006). */
const PEER_CLOSE_REASONS = ["client_closed", "connection_lost"] as const;

/** A oneof's cases: protobuf-es's name (what code sees) to the field's proto name (the label value, snake_case). */
function casesOf(schema: typeof ClientFrameSchema | typeof ServerFrameSchema): [string, string][] {
  return schema.oneofs[0]!.fields.map((field) => [field.localName, field.name]);
}

class FormatMeter implements SocketMeter {
  constructor(
    private readonly receivedBy: ReadonlyMap<string, CounterCell>,
    private readonly sentBy: ReadonlyMap<string, CounterCell>,
    private readonly ack: { observe(seconds: number): void },
  ) {}

  received(kind: string): void {
    this.receivedBy.get(kind)?.inc();
  }

  sent(kind: string | undefined): void {
    if (kind !== undefined) this.sentBy.get(kind)?.inc();
  }

  acked(seconds: number): void {
    this.ack.observe(seconds);
  }
}

/**
 * The gateway's metrics: open sockets, connects and disconnects, frames in
 * and out by kind and wire format, and send-to-ack latency. Every series is
 * made here, once; the sockets only bump them.
 */
export function gatewayMetrics(metrics: Metrics, gatewayId: string): { meter: GatewayMeter; countConnections(read: () => number): void } {
  const connects = metrics.counter({
    name: "parley_gateway_connects_total",
    help: "WebSocket upgrade requests by outcome: accepted, or the refusal (unauthenticated, forbidden, too_many_connections, unavailable...)",
    labelNames: ["outcome"],
  });
  const disconnects = metrics.counter({
    name: "parley_gateway_disconnects_total",
    help: "WebSocket connections closed, by reason: the gateway's close code class (server_shutdown, heartbeat_timeout, slow_consumer, rate_limited, token_expired, session_ended, protocol_violation) or the client's (client_closed, connection_lost)",
    labelNames: ["reason"],
  });
  const received = metrics.counter({
    name: "parley_gateway_frames_received_total",
    help: "Client frames received, by kind (the request: send, sync, heartbeat...; or invalid, unknown, rate_limited) and wire format (proto, json)",
    labelNames: ["kind", "format"],
  });
  const sent = metrics.counter({
    name: "parley_gateway_frames_sent_total",
    help: "Server frames written to devices, by kind (entry, typing, presence, the reply to a request such as send, error, pong...) and wire format (proto, json)",
    labelNames: ["kind", "format"],
  });
  const ack = metrics
    .histogram({
      name: "parley_gateway_send_ack_duration_seconds",
      help: "Seconds from a send frame's arrival on the socket to the write of its acknowledgement (the message stored), queueing behind the user's other requests included",
      buckets: LATENCY_BUCKETS,
    })
    .cell();

  const connectCells = new Map([...CONNECT_OUTCOMES].map(([status, outcome]) => [status, connects.cell({ outcome })]));
  const otherRefusal = connects.cell({ outcome: "refused_other" });
  const serverCloseCells = new Map([...SERVER_CLOSE_REASONS].map(([code, reason]) => [code, disconnects.cell({ reason })]));
  const serverOther = disconnects.cell({ reason: "server_other" });
  const [clientClosed, connectionLost] = PEER_CLOSE_REASONS.map((reason) => disconnects.cell({ reason })) as [CounterCell, CounterCell];

  const meters = new Map(
    FORMATS.map((format) => {
      const clientKinds = [...casesOf(ClientFrameSchema), ...CLIENT_FRAME_OUTCOMES.map((kind) => [kind, kind] as [string, string])];
      const receivedBy = new Map(clientKinds.map(([name, kind]) => [name, received.cell({ kind, format })]));
      const sentBy = new Map(casesOf(ServerFrameSchema).map(([name, kind]) => [name, sent.cell({ kind, format })]));
      return [format, new FormatMeter(receivedBy, sentBy, ack)];
    }),
  );

  return {
    meter: {
      forFormat: (format) => meters.get(format)!,
      upgrade: (status) => (connectCells.get(status) ?? otherRefusal).inc(),
      closed(code, byServer) {
        if (byServer) (serverCloseCells.get(code) ?? serverOther).inc();
        else (code === 1006 ? connectionLost : clientClosed).inc();
      },
    },
    countConnections(read) {
      metrics.gauge({
        name: "parley_gateway_connections",
        help: "WebSocket connections open on this gateway now, by gateway id",
        labelNames: ["gateway"],
        read: (set) => set(read(), { gateway: gatewayId }),
      });
    },
  };
}
