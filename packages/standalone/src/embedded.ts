import { join } from "node:path";
import { createRouterTransport, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { startAccount, mapAccountError, type AccountConfig } from "@parley/account";
import { gatewayRoutes, gatewayServiceNames, type GatewayConfig } from "@parley/gateway";
import { createIdgenService, mapIdgenError, SnowflakeGenerator, systemClock, type IdgenConfig } from "@parley/idgen";
import { openPgliteDb, openPostgresDb } from "@parley/relational";
import { errorInterceptor, Metrics, startServer, type Logger, type RunningServer } from "@parley/runtime";

export interface EmbeddedConfig {
  account: AccountConfig;
  idgen: IdgenConfig;
  gateway: GatewayConfig;
  /** When set, the internal services are also served over gRPC on this port (127.0.0.1). */
  internalPort: number | undefined;
}

export interface RunningParley {
  gateway: RunningServer;
  internal: RunningServer | undefined;
  close(graceMs: number): Promise<void>;
}

/**
 * Every service in one process on the embedded defaults: one PGlite database
 * in the data folder shared by the services that need SQL, and in-process
 * Connect transports between them (the same contracts and error mapping as
 * over gRPC, minus the network).
 */
export async function startEmbedded(config: EmbeddedConfig, loggerFor: (service: string) => Logger): Promise<RunningParley> {
  const logger = loggerFor("gateway");
  const db =
    config.account.databaseUrl !== undefined
      ? await openPostgresDb({ url: config.account.databaseUrl, logger })
      : await openPgliteDb(join(config.account.dataDir, "pglite"));
  const account = await startAccount(config.account, loggerFor("account"), { db });
  const idgen = createIdgenService({
    generator: new SnowflakeGenerator({
      workerId: config.idgen.workerId,
      clock: systemClock,
      maxBackwardMs: config.idgen.maxClockBackwardMs,
    }),
  });
  const accountErrors = errorInterceptor(mapAccountError, loggerFor("account"));
  const idgenErrors = errorInterceptor(mapIdgenError, loggerFor("idgen"));

  const metrics = new Metrics();
  const gateway = await startServer({
    host: config.gateway.host,
    port: config.gateway.port,
    routes: gatewayRoutes({ account: inProcess(account.routes, [accountErrors]) }, config.gateway.upstreamTimeoutMs),
    serviceNames: gatewayServiceNames,
    logger,
    metrics,
    readMaxBytes: config.gateway.maxRequestBytes,
  });

  const internal =
    config.internalPort === undefined
      ? undefined
      : await startServer({
          host: "127.0.0.1",
          port: config.internalPort,
          routes: (router) => {
            account.routes(router);
            idgen.routes(router);
          },
          serviceNames: [...account.serviceNames, ...idgen.serviceNames],
          logger,
          metrics,
          interceptors: [accountErrors, idgenErrors],
        });

  return {
    gateway,
    internal,
    async close(graceMs) {
      await Promise.all([gateway.close(graceMs), internal?.close(graceMs)]);
      await account.close();
      await db.close();
    },
  };
}

function inProcess(routes: (router: ConnectRouter) => void, interceptors: Interceptor[]) {
  return createRouterTransport(routes, { router: { interceptors } });
}
