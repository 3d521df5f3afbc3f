import { Code, ConnectError, createRouterTransport, type Interceptor, type Transport } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import type { LocateDevicesStreamRequest } from "@parley/contracts/parley/presence/v1/presence";
import { mapPresenceError, presenceAccess, startPresence, type RunningPresence } from "@parley/presence";
import { createLogger, errorInterceptor, inProcessTransport, Metrics, startServer, type RunningServer } from "@parley/runtime";
import { openTestStorage, testCredentials } from "@parley/testkit";

const silent = createLogger("test", "silent");

/** A real presence service for chat's locator to talk to, which a test can stop, restart and watch. */
export interface PresenceFixture {
  /** Chat's transport to presence; it reaches the restarted presence too. */
  transport: Transport;
  /** Registers devices on gateway "gw-1", as that gateway's hello does. */
  connect(sessions: { userId: bigint; deviceId: bigint }[]): Promise<void>;
  /** Stops presence as a shutdown does: its streams end, nothing answers until start(). */
  stop(): Promise<void>;
  /** A fresh presence (no sessions) where the old one was. */
  start(): Promise<void>;
  /** How many users each LocateDevicesStream request that reached presence named, in order. */
  readonly seen: number[];
  /** How many LocateDevicesStream request sides the caller ended (half-closed) cleanly. */
  readonly endedByCaller: number;
  /** Until the returned release is called, requests reach presence but wait there unanswered. */
  hold(): () => void;
  close(): Promise<void>;
}

/** Account as presence needs it here: nobody has friends, nobody hides. */
const account = createRouterTransport((router) =>
  router.service(AccountInternalService, {
    listFriendIds: () => ({ friendIds: [] }),
    getPresenceVisibility: () => ({ hiddenUserIds: [] }),
  }),
);

/** Counts and optionally holds the requests of LocateDevicesStream, on presence's side. */
function watcher() {
  const state = { seen: [] as number[], endedByCaller: 0, gate: undefined as Promise<void> | undefined };
  const interceptor: Interceptor = (next) => async (req) => {
    if (!req.stream || req.method.name !== "LocateDevicesStream") return next(req);
    const source = req.message as AsyncIterable<LocateDevicesStreamRequest>;
    const watched = (async function* () {
      for await (const request of source) {
        state.seen.push(request.userIds.length);
        while (state.gate) await state.gate;
        yield request;
      }
      state.endedByCaller++;
    })();
    return next({ ...req, message: watched } as typeof req);
  };
  const hold = () => {
    let release!: () => void;
    state.gate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      state.gate = undefined;
      release();
    };
  };
  return { state, interceptor, hold };
}

async function freshPresence(): Promise<{ presence: RunningPresence; cleanup: () => Promise<void> }> {
  const { storage, cleanup } = await openTestStorage("sqlite", "parley_locator");
  const presence = await startPresence({ storage, account, graceMs: 30_000, heartbeatTimeoutMs: 15_000 }, silent);
  return {
    presence,
    async cleanup() {
      await presence.close();
      await cleanup();
    },
  };
}

/** Presence in this process, reached through inProcessTransport under its access policy, as in the embedded mode. */
export async function inProcessPresence(): Promise<PresenceFixture> {
  const watch = watcher();
  let current = await freshPresence();
  let inner: Transport | undefined;
  const reach = () =>
    (inner = inProcessTransport(current.presence.routes, {
      policy: presenceAccess,
      caller: "chat",
      interceptors: [watch.interceptor, errorInterceptor(mapPresenceError, silent)],
      logger: silent,
    }));
  reach();
  const down = () => {
    throw new ConnectError("presence is stopped", Code.Unavailable);
  };
  return fixture(watch, {
    // Stands for the address: calls go to whichever presence runs now.
    transport: { unary: (...args) => (inner ?? down()).unary(...args), stream: (...args) => (inner ?? down()).stream(...args) },
    connect: (sessions) => current.presence.hub.gatewayHello("gw-1", sessions, () => {}),
    async stop() {
      inner = undefined;
      current.presence.drain();
      await current.cleanup();
    },
    async start() {
      current = await freshPresence();
      reach();
    },
    close: () => {
      if (!inner) return Promise.resolve();
      current.presence.drain();
      return current.cleanup();
    },
  });
}

/** Presence behind a real HTTP/2 gRPC server on 127.0.0.1, reached with chat's service token, restarted on the same port. */
export async function http2Presence(): Promise<PresenceFixture> {
  const watch = watcher();
  const credentials = testCredentials();
  let current = await freshPresence();
  const serve = (port: number) =>
    startServer({
      host: "127.0.0.1",
      port,
      routes: current.presence.routes,
      serviceNames: current.presence.serviceNames,
      logger: silent,
      metrics: new Metrics(),
      interceptors: [credentials.plane("presence").guard(presenceAccess), watch.interceptor, errorInterceptor(mapPresenceError, silent)],
      onDrain: () => current.presence.drain(),
    });
  let server: RunningServer | undefined = await serve(0);
  const port = server.port;
  const stop = async () => {
    await server?.close(0);
    server = undefined;
    await current.cleanup();
  };
  return fixture(watch, {
    transport: credentials.plane("chat").transport(`127.0.0.1:${port}`, "presence"),
    connect: (sessions) => current.presence.hub.gatewayHello("gw-1", sessions, () => {}),
    stop,
    async start() {
      current = await freshPresence();
      server = await serve(port);
    },
    async close() {
      if (server) await stop();
      credentials.close();
    },
  });
}

function fixture(watch: ReturnType<typeof watcher>, parts: Omit<PresenceFixture, "seen" | "endedByCaller" | "hold">): PresenceFixture {
  return {
    ...parts,
    seen: watch.state.seen,
    get endedByCaller() {
      return watch.state.endedByCaller;
    },
    hold: watch.hold,
  };
}
