import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import type { ConnectRouter, ContextValues, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health } from "@parley/contracts/grpc/health/v1/health";
import { ServerReflection } from "@parley/contracts/grpc/reflection/v1/reflection";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { HealthStatus, healthService, ServingStatus } from "./health.js";
import { answerProbe } from "./probes.js";
import { sniffPreface } from "./preface-sniffer.js";
import type { ReadinessChecks } from "./readiness.js";
import { reflectionService } from "./reflection.js";
import type { ServerTls } from "./tls.js";
import { requestIdFrom, tracingServerInterceptor, withRequestId } from "./tracing.js";

type NodeHandler = NonNullable<Parameters<typeof connectNodeAdapter>[0]["fallback"]>;
/** The Node request (HTTP/1.1 or HTTP/2) a call arrived on. */
export type NodeServerRequest = Parameters<NodeHandler>[0];
/** The Node response (HTTP/1.1 or HTTP/2) a call is answered on. */
export type NodeServerResponse = Parameters<NodeHandler>[1];

export interface ServerOptions {
  /** Interface to bind; 127.0.0.1 unless the process must be reachable from elsewhere. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * Connections the kernel may hold for the process before it accepts them
   * (capped by net.core.somaxconn). Node's default, 511, overflows when
   * thousands of clients reconnect at once: their connects are then dropped
   * and retried by TCP after 1, 3, 7 s.
   */
  backlog?: number;
  /** Registers the process's services on the router. */
  routes: (router: ConnectRouter) => void;
  /** Names of the registered services, reported by the health service. */
  serviceNames: string[];
  logger: Logger;
  metrics: Metrics;
  health?: HealthStatus;
  /** The process's dependency checks, behind /readyz and the health service's "" status; absent: ready unless draining. */
  readiness?: ReadinessChecks;
  /**
   * Serve grpc.reflection.v1 for every service on this server. Only behind
   * the internal plane's guard, which lets operators alone use it; never on
   * a public port.
   */
  reflection?: boolean;
  interceptors?: Interceptor[];
  /** Called when a graceful close starts: end long-lived streams here so they do not hold the close up. */
  onDrain?: () => void;
  /** Largest request message accepted; larger ones get RESOURCE_EXHAUSTED. */
  readMaxBytes?: number;
  /**
   * Runs first on every request, RPCs included (CORS, say): it may set
   * response headers, or answer the request itself and return true. Its
   * answers get the access log's line and request id like any other.
   */
  beforeRoutes?: (req: NodeServerRequest, res: NodeServerResponse) => boolean;
  /** Extra plain-HTTP routes tried before the built-in probes and /metrics. Return true when handled. */
  httpRoutes?: (req: NodeServerRequest, res: NodeServerResponse) => boolean;
  /** Serve TLS (HTTP/2 and HTTP/1.1 chosen by ALPN) with this certificate; cleartext when absent. */
  tls?: ServerTls;
  /** Slow clients: how long a connection may take to send its first bytes, a TLS handshake, or request headers. */
  headersTimeoutMs?: number;
  /** How long an HTTP/1.1 request (headers and body) may take to arrive. */
  requestTimeoutMs?: number;
  /** Values for each call's handler context, taken from the Node request (the gateway's client address). */
  contextValues?: (req: NodeServerRequest) => ContextValues;
  /**
   * The public HTTP API: every request gets a request id (the caller's
   * X-Request-Id when well formed, else a new one; echoed in the response),
   * a line in the access log, and with tracing on a trace of its own.
   */
  accessLog?: boolean;
}

export interface RunningServer {
  readonly port: number;
  /** Base URL for clients on this machine, such as http://127.0.0.1:7001 (https:// with TLS). */
  readonly url: string;
  readonly health: HealthStatus;
  /** The HTTP/1.1 side, for WebSocket upgrades. */
  readonly http1: http.Server;
  /** Stops accepting, lets in-flight calls finish for up to graceMs, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * One TCP port speaks both HTTP/2 (gRPC, what services use between
 * themselves) and HTTP/1.1 (Connect JSON for curl, /metrics, the probes, and
 * the gateway's WebSocket upgrades): the first bytes of each connection tell
 * which. Every server also serves grpc.health.v1.Health and the probes
 * (probes.ts); internal servers serve reflection too.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const health = options.health ?? new HealthStatus();
  for (const name of options.serviceNames) health.set(name, ServingStatus.SERVING);
  const readiness = options.readiness;
  const stopReporting = readiness?.onChange((failing) => health.setFailing(failing));
  if (readiness) health.setFailing(readiness.failing);

  const handler = connectNodeAdapter({
    routes: (router) => {
      options.routes(router);
      router.service(Health, healthService(health));
      // Read at the first reflection request, once every service is registered.
      const served = () => router.handlers.map((handler) => handler.service);
      if (options.reflection) router.service(ServerReflection, reflectionService(served));
    },
    interceptors: [tracingServerInterceptor({ rootSpans: options.accessLog === true }), options.metrics.interceptor(), ...(options.interceptors ?? [])],
    ...(options.readMaxBytes === undefined ? {} : { readMaxBytes: options.readMaxBytes }),
    ...(options.contextValues === undefined ? {} : { contextValues: options.contextValues }),
    fallback: (req, res) => {
      if (options.httpRoutes?.(req, res)) return;
      const path = (req.url ?? "/").split("?")[0];
      if (answerProbe(path, health, res)) return;
      if (path === "/metrics") {
        options.metrics.render().then(
          ({ contentType, body }) => {
            res.writeHead(200, { "content-type": contentType });
            res.end(body);
          },
          (err: unknown) => {
            options.logger.error({ err }, "rendering metrics failed");
            res.writeHead(500);
            res.end();
          },
        );
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    },
  });

  const beforeRoutes = options.beforeRoutes;
  const filtered: NodeHandler = beforeRoutes ? (req, res) => void (beforeRoutes(req, res) || handler(req, res)) : handler;
  const serve = options.accessLog ? accessLogged(filtered, options.logger) : filtered;
  const headersTimeoutMs = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const h2 = http2.createServer({}, serve);
  // Half-open requests (headers that never finish, an upgrade that never
  // completes) are cut after the timeouts; Node checks them once a second.
  const h1 = http.createServer(
    { headersTimeout: headersTimeoutMs, requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
    serve,
  );
  const sessions = new Set<http2.Http2Session>();
  const sockets = new Set<net.Socket>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  // HTTP/1.1 keep-alive sockets handed over by the sniffer are not closed by
  // closeIdleConnections(), so the server tracks which are between requests.
  const busy = new Set<net.Socket>();
  let draining = false;
  // Sockets taken over by a WebSocket: their owner closes them (with a close code).
  const upgraded = new Set<net.Socket>();
  // One listener function for every socket (EventEmitter calls it with the
  // socket as this): a closure per socket would live as long as it does.
  const forget = function (this: net.Socket) {
    sockets.delete(this);
    upgraded.delete(this);
  };
  h1.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", forget);
  });
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    busy.add(socket);
    if (draining) res.setHeader("connection", "close");
    res.on("close", () => {
      busy.delete(socket);
      if (draining) socket.end();
    });
  });

  h1.on("upgrade", (_req: http.IncomingMessage, socket: net.Socket) => {
    // With only this listener, nobody serves upgrades here: refuse them.
    if (h1.listenerCount("upgrade") === 1) return void socket.destroy();
    upgraded.add(socket);
  });

  const serverTls = options.tls;
  const tcp = serverTls
    ? tls.createServer({ ...serverTls.options, ALPNProtocols: ["h2", "http/1.1"], handshakeTimeout: headersTimeoutMs }, (socket) => routeByAlpn(socket, h1, h2))
    : net.createServer((socket) => routeByPreface(socket, h1, h2, headersTimeoutMs));
  if (serverTls && tcp instanceof tls.Server) {
    serverTls.onChange((context) => tcp.setSecureContext(context));
    // A failed handshake (a cleartext client, an unknown CA) is the client's problem, not ours.
    tcp.on("tlsClientError", (err: Error) => options.logger.debug({ reason: err.message }, "TLS handshake failed"));
  }
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen({ port: options.port, host: options.host, ...(options.backlog === undefined ? {} : { backlog: options.backlog }) }, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  // The HTTP/1.1 server never listens itself (connections are handed to it),
  // so it is told, to start the checks behind headersTimeout and requestTimeout.
  h1.emit("listening");
  const port = (tcp.address() as AddressInfo).port;
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;

  let closing: Promise<void> | undefined;
  return {
    port,
    url: `${serverTls ? "https" : "http"}://${host}:${port}`,
    health,
    http1: h1,
    close(graceMs) {
      closing ??= (async () => {
        health.drain();
        stopReporting?.();
        const stopped = new Promise<void>((resolve) => tcp.close(() => resolve()));
        draining = true;
        options.onDrain?.();
        for (const session of sessions) session.close();
        for (const socket of sockets) if (!busy.has(socket) && !upgraded.has(socket)) socket.end();
        const drained = waitUntil(() => sessions.size === 0 && sockets.size === 0, graceMs);
        if (!(await drained)) {
          options.logger.warn({ sessions: sessions.size, sockets: sockets.size }, "grace period over; cutting connections");
          for (const session of sessions) session.destroy();
          for (const socket of sockets) socket.destroy();
        }
        await stopped;
        h1.close(() => {}); // stops its timeout checks
      })();
      return closing;
    },
  };
}

/** Paths probed every few seconds by load balancers and scrapers: not worth a log line each. */
const UNLOGGED_PATHS = new Set(["/healthz", "/livez", "/readyz", "/metrics"]);

/** The handler, with a request id per request and an access-log line when it ends. */
function accessLogged(handler: NodeHandler, logger: Logger): NodeHandler {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (UNLOGGED_PATHS.has(path)) return handler(req, res);
    const requestId = requestIdFrom(req.headers["x-request-id"] as string | undefined);
    // The id the handler and its calls see is the one logged and echoed.
    req.headers["x-request-id"] = requestId;
    res.setHeader("x-request-id", requestId);
    const started = performance.now();
    res.once("close", () =>
      logger.info(
        {
          request_id: requestId,
          method: req.method,
          path,
          status: res.statusCode,
          duration_ms: Math.round((performance.now() - started) * 10) / 10,
          remote: req.socket.remoteAddress,
          completed: res.writableFinished,
        },
        "http request",
      ),
    );
    withRequestId(requestId, () => handler(req, res));
  };
}

/** After TLS, ALPN has already told which protocol the client speaks. */
function routeByAlpn(socket: tls.TLSSocket, h1: http.Server, h2: http2.Http2Server): void {
  if (socket.alpnProtocol === "h2") h2.emit("connection", socket);
  else h1.emit("connection", socket);
}

function routeByPreface(socket: net.Socket, h1: http.Server, h2: http2.Http2Server, firstBytesTimeoutMs: number): void {
  sniffPreface(socket, firstBytesTimeoutMs, (protocol) => {
    if (protocol === "h2") {
      // The http2 session reads the bytes already buffered on the socket itself
      // (on the next tick); resuming here would emit them to no listener.
      h2.emit("connection", socket);
    } else {
      h1.emit("connection", socket);
      socket.resume();
    }
  });
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
