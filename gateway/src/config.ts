import { commonEnv, env, loadEnv } from "@parley/runtime";

export const gatewayEnv = {
  HOST: env.string("127.0.0.1"),
  PORT: env.port(8080),
  ACCOUNT_ADDRESS: env.address("127.0.0.1:7001"),
  GATEWAY_UPSTREAM_TIMEOUT_MS: env.int(100, 60_000, 10_000),
  GATEWAY_MAX_REQUEST_BYTES: env.int(1_024, 16_777_216, 65_536),
  ...commonEnv,
};

export interface GatewayConfig {
  host: string;
  port: number;
  accountAddress: string;
  upstreamTimeoutMs: number;
  maxRequestBytes: number;
  logLevel: string;
  shutdownGraceMs: number;
}

export function loadGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const v = loadEnv(gatewayEnv, environment);
  return Object.freeze({
    host: v.HOST,
    port: v.PORT,
    accountAddress: v.ACCOUNT_ADDRESS,
    upstreamTimeoutMs: v.GATEWAY_UPSTREAM_TIMEOUT_MS,
    maxRequestBytes: v.GATEWAY_MAX_REQUEST_BYTES,
    logLevel: v.LOG_LEVEL,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
  });
}
