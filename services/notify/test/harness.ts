import { createClient, createRouterTransport, type Client, type Interceptor } from "@connectrpc/connect";
import { AccountInternalService, AccountService, PushPlatform } from "@parley/contracts/parley/account/v1/account";
import { NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { loadAccountConfig, startAccount, mapAccountError, type RunningAccount } from "@parley/account";
import type { Db } from "@parley/relational";
import { createLogger, errorInterceptor, grpcTransport, Metrics, startServer, type RunningServer } from "@parley/runtime";
import { openTestDb, type TestDbKind } from "@parley/testkit";
import { basicAuthorization } from "../src/auth.js";
import { mapNotifyError } from "../src/errors.js";
import { startNotify, type NotifyTuning, type RunningNotify } from "../src/notify-service.js";
import type { Channel, Provider } from "../src/ports.js";

const silent = createLogger("test", "silent");
const PASSWORD = "correct horse battery";
export const APP_KEY = "chat";
export const APP_SECRET = "a-test-secret-of-some-length";

/** Fast retries and a short lease, so failure paths finish in well under a second. */
export const testTuning: NotifyTuning = {
  callers: new Map([[APP_KEY, APP_SECRET]]),
  maxAttempts: 4,
  retryBaseMs: 20,
  retryMaxMs: 100,
  leaseMs: 5_000,
  pollMs: 50,
  concurrency: 8,
  rateLimit: 0,
  rateWindowMs: 60_000,
  targetsCacheMs: 30_000,
};

export interface TestUser {
  id: bigint;
  /** Calls the public account API as this user's first device. */
  api: Client<typeof AccountService>;
  headers: Headers;
  deviceId: bigint;
}

export interface NotifyHarness {
  notify: RunningNotify;
  server: RunningServer;
  /** NotifyService over real HTTP/2 with valid app credentials. */
  api: Client<typeof NotifyService>;
  /** The same without credentials, for the auth cases. */
  bareTransportUrl: string;
  account: Client<typeof AccountInternalService>;
  metrics: Metrics;
  /** Signs a user up and logs in `devices` devices, each with an FCM token `fcm-<username>-<n>`. */
  user(username: string, devices?: number): Promise<TestUser & { deviceIds: bigint[] }>;
  close(): Promise<void>;
}

/**
 * The notify service served over real gRPC on 127.0.0.1, with a real account
 * service (in process) on the same database, and the given providers, which
 * tests point at local stand-ins of the third parties.
 */
export async function startNotifyHarness(kind: TestDbKind, providers: Map<Channel, Provider>, tuning: Partial<NotifyTuning> = {}): Promise<NotifyHarness> {
  const { db, cleanup } = await openTestDb(kind, undefined, "parley_notify_svc");
  const account = await startTestAccount(db);
  const accountTransport = createRouterTransport(account.routes, { router: { interceptors: [errorInterceptor(mapAccountError, silent)] } });
  const metrics = new Metrics();
  const notify = await startNotify({ db, account: accountTransport, providers, config: { ...testTuning, ...tuning } }, silent, metrics);
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    routes: notify.routes,
    serviceNames: notify.serviceNames,
    logger: silent,
    metrics,
    interceptors: [errorInterceptor(mapNotifyError, silent), notify.auth],
  });
  const credentials: Interceptor = (next) => (req) => {
    req.header.set("authorization", basicAuthorization(APP_KEY, APP_SECRET));
    return next(req);
  };
  const publicAccount = createClient(AccountService, accountTransport);
  return {
    notify,
    server,
    api: createClient(NotifyService, grpcTransport(server.url, [credentials])),
    bareTransportUrl: server.url,
    account: createClient(AccountInternalService, accountTransport),
    metrics,
    async user(username, devices = 1) {
      const { profile } = await publicAccount.signUp({ username, password: PASSWORD });
      const deviceIds: bigint[] = [];
      let first: TestUser | undefined;
      for (let n = 1; n <= devices; n++) {
        const login = await publicAccount.logIn({ username, password: PASSWORD, deviceName: `device ${n}` });
        const headers = new Headers({ authorization: `Bearer ${login.session!.accessToken}` });
        await publicAccount.setPushToken({ platform: PushPlatform.FCM, token: `fcm-${username}-${n}` }, { headers });
        deviceIds.push(login.device!.deviceId);
        first ??= { id: profile!.userId, api: publicAccount, headers, deviceId: login.device!.deviceId };
      }
      return { ...(first ?? { id: profile!.userId, api: publicAccount, headers: new Headers(), deviceId: 0n }), deviceIds };
    },
    async close() {
      await server.close(0);
      await notify.close(1_000);
      await account.close();
      await cleanup();
    },
  };
}

async function startTestAccount(db: Db): Promise<RunningAccount> {
  return startAccount(
    loadAccountConfig({ ACCOUNT_PORT: "0", ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 1).toString("base64url"), ACCOUNT_SCRYPT_LOG_N: "10", LOG_LEVEL: "silent", SHUTDOWN_GRACE_MS: "0" }),
    silent,
    { db },
  );
}

/** Polls `check` until it returns a value, at most `ms` (bounded, for background workers). */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, ms = 5_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
