import { hostname } from "node:os";
import { etcdEnv, registrySettings, type RegistrySettings } from "@parley/mesh";
import {
  commonEnv,
  ConfigError,
  env,
  isLoopbackHost,
  loadEnv,
  internalPlaneEnv,
  internalPlaneSettings,
  type InternalPlaneSettings,
  readinessSettings,
  type ReadinessSettings,
} from "@parley/runtime";
import { z } from "zod";
import { type CommandPacing, UNPACED } from "./adapters/chat-link.js";
import { parseProxyEntry } from "./client-address.js";

export const gatewayEnv = {
  HOST: env.string("127.0.0.1"),
  PORT: env.port(8080),
  ACCOUNT_ADDRESS: env.address("127.0.0.1:7001"),
  CHAT_ADDRESS: env.address("127.0.0.1:7003"),
  PRESENCE_ADDRESS: env.address("127.0.0.1:7005"),
  GATEWAY_ID: env.optionalString(),
  GATEWAY_INTERNAL_HOST: env.string("127.0.0.1"),
  GATEWAY_INTERNAL_PORT: env.port(7004),
  GATEWAY_DELIVER_ADDRESS: env.optionalString(),
  GATEWAY_UPSTREAM_TIMEOUT_MS: env.int(100, 60_000, 10_000),
  GATEWAY_CHAT_BATCHES_IN_FLIGHT: env.int(0, 1_000, 1),
  GATEWAY_CHAT_HOLD_MS: env.int(0, 100, 5),
  GATEWAY_CHAT_LINGER_MS: env.int(0, 100, 0),
  GATEWAY_MAX_REQUEST_BYTES: env.int(1_024, 16_777_216, 65_536),
  GATEWAY_ALLOWED_ORIGINS: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((o) => o.trim())
        .filter((o) => o !== ""),
    ),
  GATEWAY_MAX_FRAME_BYTES: env.int(4_096, 16_777_216, 524_288),
  GATEWAY_HEARTBEAT_INTERVAL_MS: env.int(1_000, 120_000, 5_000),
  GATEWAY_FRAMES_PER_SECOND: env.int(1, 100_000, 200),
  GATEWAY_FRAME_BURST: env.int(1, 100_000, 400),
  GATEWAY_SEND_BUFFER_BYTES: env.int(65_536, 268_435_456, 4_194_304),
  GATEWAY_USER_MAX_IN_FLIGHT: env.int(1, 10_000, 32),
  GATEWAY_USER_MAX_QUEUED: env.int(0, 100_000, 256),
  GATEWAY_MAX_SOCKETS_PER_DEVICE: env.int(1, 1_000, 4),
  GATEWAY_MAX_SOCKETS_PER_USER: env.int(1, 10_000, 16),
  GATEWAY_CAPACITY: env.int(1, 10_000_000, 10_000),
  GATEWAY_LISTEN_BACKLOG: env.int(1, 65_535, 4_096),
  GATEWAY_TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== ""),
    )
    .refine((entries) => entries.every((p) => parseProxyEntry(p) !== undefined), {
      error: "must be comma-separated IP addresses or CIDR ranges, such as 10.0.0.0/8,2001:db8::/32",
    }),
  GATEWAY_WEB_APP: env.oneOf(["on", "off"], "on"),
  PUBLIC_TLS_CERT_FILE: env.optionalString(),
  PUBLIC_TLS_KEY_FILE: env.optionalString(),
  GATEWAY_PUBLIC_URL: z
    .string()
    .regex(/^wss?:\/\/[^\s/]+(\/\S*)?$/, { error: "must be a ws:// or wss:// URL, such as wss://chat.example/ws" })
    .optional(),
  ...etcdEnv,
  ...commonEnv,
  ...internalPlaneEnv,
};

export interface GatewayConfig {
  host: string;
  port: number;
  accountAddress: string;
  chatAddress: string;
  presenceAddress: string;
  gatewayId: string;
  internalHost: string;
  internalPort: number;
  /** host:port chat dials to reach this gateway's DeliverService; defaults to the internal server's address. */
  deliverAddress: string | undefined;
  upstreamTimeoutMs: number;
  /** How commands leave on each chat stream: every turn's at its end, or paced by replies (PacedBatcher). */
  chatPacing: CommandPacing;
  maxRequestBytes: number;
  allowedOrigins: readonly string[];
  maxFrameBytes: number;
  heartbeatIntervalMs: number;
  /** Frames per second (and burst) one user may send over all their sockets on this gateway. */
  framesPerSecond: number;
  frameBurst: number;
  sendBufferBytes: number;
  /** One user's requests served upstream at once on this gateway, and queued behind them. */
  userMaxInFlight: number;
  userMaxQueued: number;
  /** Sockets one device, and one user, may hold open on this gateway at once. */
  maxSocketsPerDevice: number;
  maxSocketsPerUser: number;
  /** Connections this gateway is sized for; PickGateway balances by load relative to it. */
  capacity: number;
  /** The public port's accept queue: room for the clients of a dead gateway arriving at once. */
  listenBacklog: number;
  /** Load balancers whose X-Forwarded-For names the client (addresses or CIDR ranges); empty: the socket's peer is the client. */
  trustedProxies: readonly string[];
  /** HTTPS/WSS certificate and key of the public port; undefined serves cleartext (loopback, or TLS ends at a proxy). */
  publicTls: { certFile: string; keyFile: string } | undefined;
  /** The WebSocket URL clients are sent to; defaults to ws(s)://<bound host:port>/ws. */
  publicUrl: string | undefined;
  /**
   * Serve the web chat app under /app/ (and redirect / there), when the
   * process hands the gateway the app's folder: npm start does; the gateway
   * alone has no app to serve.
   */
  webApp: boolean;
  /** Where the gateway registers (etcd, or in memory when ETCD_ENDPOINTS is unset). */
  registry: RegistrySettings;
  logLevel: string;
  shutdownGraceMs: number;
  /** How often and how patiently /readyz's dependency checks run. */
  readiness: ReadinessSettings;
  /** Service key, trust file and TLS of the internal plane (docs/security.md). */
  plane: InternalPlaneSettings;
}

export function loadGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const v = loadEnv(gatewayEnv, environment);
  if ((v.PUBLIC_TLS_CERT_FILE === undefined) !== (v.PUBLIC_TLS_KEY_FILE === undefined)) {
    throw new ConfigError(["PUBLIC_TLS_CERT_FILE and PUBLIC_TLS_KEY_FILE: set both (a certificate and its key) or neither"]);
  }
  if (v.PUBLIC_TLS_CERT_FILE === undefined && !isLoopbackHost(v.HOST) && !v.ALLOW_PLAINTEXT) {
    throw new ConfigError([
      `PUBLIC_TLS_CERT_FILE: is required to serve clients on ${v.HOST} (not loopback); set PUBLIC_TLS_CERT_FILE and PUBLIC_TLS_KEY_FILE, or ALLOW_PLAINTEXT=true if a load balancer ends TLS`,
    ]);
  }
  return Object.freeze({
    host: v.HOST,
    port: v.PORT,
    accountAddress: v.ACCOUNT_ADDRESS,
    chatAddress: v.CHAT_ADDRESS,
    presenceAddress: v.PRESENCE_ADDRESS,
    gatewayId: v.GATEWAY_ID ?? `gw-${hostname()}-${process.pid}`,
    internalHost: v.GATEWAY_INTERNAL_HOST,
    internalPort: v.GATEWAY_INTERNAL_PORT,
    deliverAddress: v.GATEWAY_DELIVER_ADDRESS,
    upstreamTimeoutMs: v.GATEWAY_UPSTREAM_TIMEOUT_MS,
    chatPacing: {
      ...(v.GATEWAY_CHAT_BATCHES_IN_FLIGHT === 0 ? UNPACED : { maxUnansweredBatches: v.GATEWAY_CHAT_BATCHES_IN_FLIGHT, holdMs: v.GATEWAY_CHAT_HOLD_MS }),
      lingerMs: v.GATEWAY_CHAT_LINGER_MS,
    },
    maxRequestBytes: v.GATEWAY_MAX_REQUEST_BYTES,
    allowedOrigins: Object.freeze(v.GATEWAY_ALLOWED_ORIGINS),
    maxFrameBytes: v.GATEWAY_MAX_FRAME_BYTES,
    heartbeatIntervalMs: v.GATEWAY_HEARTBEAT_INTERVAL_MS,
    framesPerSecond: v.GATEWAY_FRAMES_PER_SECOND,
    frameBurst: v.GATEWAY_FRAME_BURST,
    capacity: v.GATEWAY_CAPACITY,
    listenBacklog: v.GATEWAY_LISTEN_BACKLOG,
    trustedProxies: Object.freeze(v.GATEWAY_TRUSTED_PROXIES),
    publicUrl: v.GATEWAY_PUBLIC_URL,
    webApp: v.GATEWAY_WEB_APP === "on",
    publicTls: v.PUBLIC_TLS_CERT_FILE === undefined ? undefined : { certFile: v.PUBLIC_TLS_CERT_FILE, keyFile: v.PUBLIC_TLS_KEY_FILE! },
    registry: registrySettings(v),
    sendBufferBytes: v.GATEWAY_SEND_BUFFER_BYTES,
    userMaxInFlight: v.GATEWAY_USER_MAX_IN_FLIGHT,
    userMaxQueued: v.GATEWAY_USER_MAX_QUEUED,
    maxSocketsPerDevice: v.GATEWAY_MAX_SOCKETS_PER_DEVICE,
    maxSocketsPerUser: v.GATEWAY_MAX_SOCKETS_PER_USER,
    logLevel: v.LOG_LEVEL,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    readiness: readinessSettings(v),
    plane: internalPlaneSettings(v),
  });
}
