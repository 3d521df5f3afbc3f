import { accountAccess, loadAccountConfig, mapAccountError, startAccount } from "@parley/account";
import { chatAccess, mapChatError, startChat } from "@parley/chat";
import { MemoryRegistry } from "@parley/mesh";
import { loadGatewayConfig, startGateway, type RunningGateway } from "@parley/gateway";
import { idgenAccess, mapIdgenError, startIdgen } from "@parley/idgen";
import { mapPresenceError, presenceAccess, startPresence } from "@parley/presence";
import { openPostgresDb, postgresStorage } from "@parley/relational";
import { createLogger, errorInterceptor, Metrics, startServer, type AccessPolicy, type ErrorMapper, type RunningServer } from "@parley/runtime";
import { testCredentials, type TestCredentials } from "@parley/testkit";
import type { ConnectRouter } from "@connectrpc/connect";
import { callApi } from "./http-api.js";

/** Account, idgen, presence, chat and a gateway, each on its own gRPC server on 127.0.0.1, in this process. */
export interface GrpcServices {
  account: RunningServer;
  idgen: RunningServer;
  presence: RunningServer;
  chat: RunningServer;
  gateway: RunningGateway;
  /** The service credentials of this set (each service's plane, and others' for tests). */
  credentials: TestCredentials;
  /** Signs up and logs in a user through the gateway's public API. */
  user(username: string): Promise<{ token: string; userId: bigint; deviceId: bigint }>;
  close(): Promise<void>;
}

/**
 * The distributed mode's wiring without its processes: every service calls
 * the others over real HTTP/2 gRPC, so a test can stop one server and see
 * what its callers' clients are told.
 */
export async function startGrpcServices(databaseUrl: string): Promise<GrpcServices> {
  const logger = (service: string) => createLogger(service, process.env.PARLEY_TEST_LOG ?? "silent");
  const metrics = new Metrics();
  const db = await openPostgresDb({ url: databaseUrl });
  const storage = postgresStorage(db);
  const credentials = testCredentials();
  const serve = (name: string, routes: (router: ConnectRouter) => void, serviceNames: string[], map: ErrorMapper, policy: AccessPolicy) =>
    startServer({
      host: "127.0.0.1",
      port: 0,
      routes,
      serviceNames,
      logger: logger(name),
      metrics,
      interceptors: [credentials.plane(name).guard(policy), errorInterceptor(map, logger(name))],
    });
  /** `caller`'s authenticated transport to the server of `audience`. */
  const to = (caller: string, server: RunningServer, audience: string) => credentials.plane(caller).transport(new URL(server.url).host, audience);

  const account = await startAccount(
    // Sign-ups from 127.0.0.1 unlimited: tests make many users.
    loadAccountConfig({
      ACCOUNT_PORT: "0",
      ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 3).toString("base64url"),
      ACCOUNT_SCRYPT_LOG_N: "10",
      ACCOUNT_SIGNUPS_PER_ADDRESS: "0",
    }),
    logger("account"),
    { storage },
  );
  const accountServer = await serve("account", account.routes, account.serviceNames, mapAccountError, accountAccess);
  const idgen = startIdgen({ workerId: 5, maxClockBackwardMs: 100 });
  const idgenServer = await serve("idgen", idgen.routes, idgen.serviceNames, mapIdgenError, idgenAccess);
  const presence = await startPresence(
    { storage, account: to("presence", accountServer, "account"), graceMs: 30_000, heartbeatTimeoutMs: 15_000 },
    logger("presence"),
  );
  const presenceServer = await serve("presence", presence.routes, presence.serviceNames, mapPresenceError, presenceAccess);
  const chat = await startChat(
    {
      storage,
      account: to("chat", accountServer, "account"),
      idgen: to("chat", idgenServer, "idgen"),
      presence: to("chat", presenceServer, "presence"),
      gatewayTransport: (hello) => (hello.deliverAddress === "" ? undefined : credentials.plane("chat").transport(hello.deliverAddress, "gateway")),
    },
    logger("chat"),
  );
  const chatServer = await serve("chat", chat.routes, chat.serviceNames, mapChatError, chatAccess);
  const gateway = await startGateway(
    loadGatewayConfig({ PORT: "0", GATEWAY_INTERNAL_PORT: "0" }),
    { account: to("gateway", accountServer, "account"), chat: to("gateway", chatServer, "chat"), presence: to("gateway", presenceServer, "presence") },
    { logger: logger("gateway"), metrics, plane: credentials.plane("gateway"), registry: new MemoryRegistry() },
  );

  return {
    account: accountServer,
    idgen: idgenServer,
    presence: presenceServer,
    chat: chatServer,
    gateway,
    credentials,
    async user(username) {
      const base = gateway.server.url;
      await callApi(base, "SignUp", { username, password: "correct horse battery" });
      const res = await callApi(base, "LogIn", { username, password: "correct horse battery", deviceName: "phone" });
      if (res.status !== 200) throw new Error(JSON.stringify(res.body));
      return { token: res.body.session.accessToken as string, userId: BigInt(res.body.profile.userId), deviceId: BigInt(res.body.device.deviceId) };
    },
    async close() {
      account.drain();
      chat.drain();
      presence.drain();
      await gateway.close(0);
      await Promise.all([chatServer, presenceServer, idgenServer, accountServer].map((server) => server.close(0)));
      await chat.close();
      await presence.close();
      await account.close();
      await db.close();
      credentials.close();
    },
  };
}
