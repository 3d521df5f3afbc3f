import { createClient, createRouterTransport, type Client, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { AccountService } from "@parley/contracts/parley/account/v1/account";
import { ChatService } from "@parley/contracts/parley/chat/v1/chat";
import { loadAccountConfig, startAccount, mapAccountError } from "@parley/account";
import { createIdgenService, mapIdgenError, SnowflakeGenerator, systemClock } from "@parley/idgen";
import { startPresence } from "@parley/presence";
import { openPgliteDb, openPostgresDb, type Db } from "@parley/relational";
import { createLogger, errorInterceptor } from "@parley/runtime";
import { createThrowawayDatabase } from "@parley/testkit";
import { startChat, type RunningChat } from "../src/chat-service.js";
import { mapChatError } from "../src/errors.js";

const silent = createLogger("test", "silent");

export interface ChatHarness {
  chat: RunningChat;
  api: Client<typeof ChatService>;
  /** Registers `username` and returns the user id. */
  user(username: string): Promise<bigint>;
  /** Headers acting as a user's device, as the gateway sets them. */
  as(userId: bigint, deviceId?: bigint): { headers: Headers };
  close(): Promise<void>;
}

function inProcess(routes: (router: ConnectRouter) => void, interceptors: Interceptor[]) {
  return createRouterTransport(routes, { router: { interceptors } });
}

/** The chat service with real account and idgen services, in process, on PGlite or a throwaway Postgres. */
export async function startChatHarness(kind: "pglite" | "postgres" = "pglite"): Promise<ChatHarness> {
  let db: Db;
  let drop = async () => {};
  if (kind === "pglite") {
    db = await openPgliteDb(undefined);
  } else {
    const throwaway = await createThrowawayDatabase("parley_chat_svc");
    db = await openPostgresDb({ url: throwaway.url });
    drop = throwaway.drop;
  }
  const account = await startAccount(
    loadAccountConfig({ ACCOUNT_PORT: "0", ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 1).toString("base64url"), ACCOUNT_SCRYPT_LOG_N: "10", LOG_LEVEL: "silent", SHUTDOWN_GRACE_MS: "0" }),
    silent,
    { db },
  );
  const idgen = createIdgenService({ generator: new SnowflakeGenerator({ workerId: 1, clock: systemClock, maxBackwardMs: 100 }) });
  const accountTransport = inProcess(account.routes, [errorInterceptor(mapAccountError, silent)]);
  const presence = await startPresence({ db, account: accountTransport, graceMs: 30_000, heartbeatTimeoutMs: 15_000 }, silent);
  const chat = await startChat(
    {
      db,
      account: accountTransport,
      idgen: inProcess(idgen.routes, [errorInterceptor(mapIdgenError, silent)]),
      presence: inProcess(presence.routes, []),
    },
    silent,
  );
  const accounts = createClient(AccountService, accountTransport);
  return {
    chat,
    api: createClient(ChatService, inProcess(chat.routes, [errorInterceptor(mapChatError, silent)])),
    async user(username) {
      const { profile } = await accounts.signUp({ username, password: "correct horse battery" });
      return profile!.userId;
    },
    as(userId, deviceId = 1n) {
      return { headers: new Headers({ "parley-user-id": String(userId), "parley-device-id": String(deviceId) }) };
    },
    async close() {
      await chat.close();
      await presence.close();
      await account.close();
      await db.close();
      await drop();
    },
  };
}
