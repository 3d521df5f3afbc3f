import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { ChatService } from "@parley/contracts/parley/chat/v1/chat";
import { DeliverService } from "@parley/contracts/parley/gateway/v1/deliver";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { DeliveryState, Kind, NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { Status } from "@parley/contracts/parley/presence/v1/presence";
import { createThrowawayDatabase, testCredentials, until, type TestCredentials, type ThrowawayDatabase } from "@parley/testkit";
import { runAccountJourney } from "./support/account-scenario.js";
import { chatBothWays, multiDevice, offlineCatchUp, retryAfterDrop, type ChatWorld } from "./support/chat-scenarios.js";
import { callApi } from "./support/http-api.js";
import { connectDevice } from "./support/sdk.js";
import { grpc, grpcJsClient, unary } from "./support/grpcjs.js";
import { startProcess, type ServiceProcess } from "./support/process.js";

const SECRET = Buffer.alloc(32, 7).toString("base64url");

describe("distributed mode: each service its own process over real gRPC with service tokens and TLS, accounts in Postgres", () => {
  // Every process gets its own key, the shared trust file, and a certificate from a private CA.
  const credentials: TestCredentials = testCredentials({ tls: true });
  const as = (principal: string) => credentials.env(principal);
  /** A Connect client of `service` at `proc`, as `principal` (over TLS, with its service token). */
  const clientAs = <S extends Parameters<typeof createClient>[0]>(service: S, principal: string, proc: ServiceProcess, audience: string) =>
    createClient(service, credentials.plane(principal).transport(new URL(proc.url).host, audience));
  // Sign-ups per address lifted: every user here signs up from 127.0.0.1 (test/brute-force.e2e.test.ts tests the limit).
  const accountEnv = (port: string) => ({
    ...as("account"),
    ACCOUNT_PORT: port,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    ACCOUNT_TOKEN_SECRET: SECRET,
    ACCOUNT_SCRYPT_LOG_N: "10",
    ACCOUNT_SIGNUPS_PER_ADDRESS: "0",
  });
  const presenceEnv = (port: string) => ({
    ...as("presence"),
    PRESENCE_PORT: port,
    DATABASE_URL: database.url,
    ACCOUNT_ADDRESS: account.url,
    PRESENCE_GRACE_MS: "1500",
  });
  let database: ThrowawayDatabase;
  let dataDir: string;
  let account: ServiceProcess;
  let idgen: ServiceProcess;
  let gateway: ServiceProcess;
  let chat: ServiceProcess;
  let presence: ServiceProcess;
  let notify: ServiceProcess;

  before(async () => {
    database = await createThrowawayDatabase("parley_e2e");
    dataDir = await mkdtemp(join(tmpdir(), "parley-distributed-"));
    [account, idgen] = await Promise.all([
      startProcess("services/account/src/main.ts", accountEnv("0"), "account service listening"),
      startProcess("services/idgen/src/main.ts", { ...as("idgen"), IDGEN_PORT: "0", IDGEN_WORKER_ID: "7" }, "idgen listening"),
    ]);
    presence = await startProcess("services/presence/src/main.ts", presenceEnv("0"), "presence service listening");
    notify = await startProcess(
      "services/notify/src/main.ts",
      { ...as("notify"), NOTIFY_PORT: "0", DATABASE_URL: database.url, ACCOUNT_ADDRESS: account.url, NOTIFY_RECORDING: "true" },
      "notify service listening",
    );
    chat = await startProcess("services/chat/src/main.ts", chatEnv("0"), "chat service listening");
    gateway = await startProcess("gateway/src/main.ts", gatewayEnv("0"), "gateway listening");
  });

  const chatEnv = (port: string) => ({
    ...as("chat"),
    CHAT_PORT: port,
    DATABASE_URL: database.url,
    ACCOUNT_ADDRESS: account.url,
    IDGEN_ADDRESS: idgen.url,
    PRESENCE_ADDRESS: presence.url,
    NOTIFY_ADDRESS: notify.url,
  });

  const gatewayEnv = (port: string) => ({
    ...as("gateway"),
    PORT: port,
    GATEWAY_INTERNAL_PORT: "0",
    ACCOUNT_ADDRESS: account.url,
    CHAT_ADDRESS: chat.url,
    PRESENCE_ADDRESS: presence.url,
  });

  after(async () => {
    await Promise.all([gateway, chat, presence, notify, account, idgen].map((p) => p?.stop("SIGKILL")));
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
    credentials.close();
  });

  it("serves the account journey through the gateway, forwarding over gRPC", async () => {
    await runAccountJourney(gateway.url, "dist");
  });

  it("hands out increasing Snowflake ids from the configured worker over gRPC", async () => {
    const client = clientAs(IdGenService, "chat", idgen, "idgen");
    const { ids } = await client.nextIds({ count: 100 });
    assert.equal(ids.length, 100);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!);
    const decoded = await client.decodeId({ id: ids[0]! });
    assert.equal(decoded.workerId, 7);
    await assert.rejects(client.nextIds({ count: 4097 }), (err: unknown) => ConnectError.from(err).code === Code.InvalidArgument);
  });

  describe("a plain @grpc/grpc-js client over TLS with a service token (what internal teams generate)", () => {
    const grpcAs = (service: Parameters<typeof grpcJsClient>[0], proc: ServiceProcess, principal: string, audience: string) =>
      grpcJsClient(service, proc.url, { ca: readFileSync(credentials.certs!.caFile), token: () => credentials.plane(principal).token(audience) });

    it("signs up, logs in and verifies the token on the account service", async () => {
      const publicApi = grpcAs("account", account, "gateway", "account");
      const internal = grpcAs("accountInternal", account, "gateway", "account");
      const signUp = await unary(publicApi, "SignUp", { username: "grpcjs_user", password: "correct horse battery" });
      assert.equal(signUp.profile.username, "grpcjs_user");
      const login = await unary(publicApi, "LogIn", { username: "grpcjs_user", password: "correct horse battery", deviceName: "svc" });
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${login.session.accessToken}`);
      const profile = await unary(publicApi, "GetProfile", {}, metadata);
      assert.equal(profile.profile.userId, signUp.profile.userId);
      const verified = await unary(internal, "VerifyToken", { accessToken: login.session.accessToken });
      assert.equal(verified.userId, signUp.profile.userId);
      assert.equal(verified.deviceId, login.device.deviceId);
      publicApi.close();
      internal.close();
    });

    it("receives Parley's errors as standard gRPC status codes with their messages", async () => {
      const publicApi = grpcAs("account", account, "gateway", "account");
      await assert.rejects(unary(publicApi, "SignUp", { username: "x", password: "correct horse battery" }), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
        assert.match(err.details, /username must be 3 to 32 characters/);
        return true;
      });
      await assert.rejects(unary(publicApi, "GetProfile", {}), (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED);
      publicApi.close();
      const withoutToken = grpcJsClient("accountInternal", account.url, { ca: readFileSync(credentials.certs!.caFile) });
      await assert.rejects(
        unary(withoutToken, "GetUsers", { userIds: ["1"] }),
        (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED && /service token is required/.test(err.details),
      );
      withoutToken.close();
    });

    it("gets ids and decodes them on the idgen service, each as the role allowed to", async () => {
      const asChat = grpcAs("idgen", idgen, "chat", "idgen");
      const asOperator = grpcAs("idgen", idgen, "operator:test", "idgen");
      const { ids } = await unary(asChat, "NextIds", { count: 3 });
      assert.equal(ids.length, 3);
      const decoded = await unary(asOperator, "DecodeId", { id: ids[2] });
      assert.equal(decoded.workerId, 7);
      assert.equal(decoded.sequence >= 0, true);
      // grpc-js decodes grpc-message with decodeURI, which leaves reserved characters such as ":" escaped.
      await assert.rejects(
        unary(asOperator, "NextIds", { count: 1 }),
        (err: grpc.ServiceError) => err.code === grpc.status.PERMISSION_DENIED && /operator:test may not call/.test(decodeURIComponent(err.details)),
      );
      asChat.close();
      asOperator.close();
    });

    it("checks the standard health service on every process", async () => {
      for (const [proc, service] of [
        [account, "parley.account.v1.AccountService"],
        [idgen, "parley.idgen.v1.IdGenService"],
        [gateway, "parley.account.v1.AccountService"],
      ] as const) {
        const health = grpcJsClient("health", proc.url, proc === gateway ? {} : { ca: readFileSync(credentials.certs!.caFile) });
        assert.equal((await unary(health, "Check", { service: "" })).status, "SERVING");
        assert.equal((await unary(health, "Check", { service })).status, "SERVING");
        await assert.rejects(unary(health, "Check", { service: "no.such.Service" }), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
        health.close();
      }
    });
  });

  describe("one-to-one chat through the SDK, across processes", () => {
    const signedUp = new Set<string>();
    const world: ChatWorld = {
      get gatewayUrl() {
        return gateway.url;
      },
      async login(username, deviceName) {
        if (!signedUp.has(username)) {
          signedUp.add(username);
          await callApi(gateway.url, "SignUp", { username, password: "correct horse battery" });
        }
        const res = await callApi(gateway.url, "LogIn", { username, password: "correct horse battery", deviceName });
        return { token: res.body.session.accessToken as string, userId: BigInt(res.body.profile.userId) };
      },
    };

    it("lets A and B chat both ways with order kept", () => chatBothWays(world, "d_both"));
    it("delivers every message live to each of B's devices and A's own sends to A's other device", () => multiDevice(world, "d_multi"));
    it("gives B all 500 messages sent while offline, once each and in order", () => offlineCatchUp(world, "d_off"));
    it("stores exactly one message when a send is retried after a dropped connection", () => retryAfterDrop(world, "d_retry"));

    it("pushes a message for an offline recipient through notify, over gRPC with chat's service token", async () => {
      const a = await world.login("d_push_a", "phone");
      const b = await world.login("d_push_b", "phone");
      const token = await callApi(gateway.url, "SetPushToken", { platform: "PUSH_PLATFORM_FCM", token: "fcm-d-push-b" }, b.token);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      const alice = await connectDevice(gateway.url, a.token);
      try {
        const conversation = await alice.client.openDirect(b.userId);
        const ack = await alice.client.send(conversation.conversationId, "are you awake?");
        const ops = clientAs(NotifyService, "operator:test", notify, "notify");
        const listed = await until(
          async () => {
            const found = await ops.listUserNotifications({ userId: b.userId });
            return found.notifications[0]?.deliveries[0]?.state === DeliveryState.SENT && found;
          },
          "the push to be sent",
          { timeoutMs: 10_000, intervalMs: 50 },
        );
        const [pushed] = listed.notifications;
        assert.equal(pushed?.eventId, `message:${ack.messageId}:${b.userId}`);
        assert.equal(pushed?.kind, Kind.NEW_MESSAGE);
        assert.deepEqual(
          pushed?.deliveries.map((d) => d.state),
          [DeliveryState.SENT],
        );
        // The log line travels through a pipe of its own, so it may trail the answer above.
        await until(() => /notification recorded/.test(notify.output()), "notify to log the notification");
      } finally {
        await alice.client.close();
      }
    });

    it("keeps every acked message when the chat process is killed right after acking", async () => {
      const a = await world.login("d_kill_a", "phone");
      const b = await world.login("d_kill_b", "phone");
      const alice = await connectDevice(gateway.url, a.token);
      const conversation = await alice.client.openDirect(b.userId);
      const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => alice.client.send(conversation.conversationId, `survives ${i}`)));
      await chat.stop("SIGKILL");
      await alice.client.close();
      chat = await startProcess("services/chat/src/main.ts", chatEnv(new URL(chat.url).port), "chat service listening");
      const bob = await connectDevice(gateway.url, b.token);
      try {
        await bob.received(50);
        assert.deepEqual(
          new Set(bob.messages.map((m) => m.messageId)),
          new Set(acks.map((ack) => ack.messageId)),
          "every acked message reached B after the restart",
        );
      } finally {
        await bob.client.close();
      }
    });
  });

  it("reconnects SDK clients when their gateway is killed, resends the unacknowledged send once, and syncs", async () => {
    const a = await callApi(gateway.url, "SignUp", { username: "gwkill_a", password: "correct horse battery" });
    await callApi(gateway.url, "SignUp", { username: "gwkill_b", password: "correct horse battery" });
    const login = async (username: string) =>
      (await callApi(gateway.url, "LogIn", { username, password: "correct horse battery", deviceName: "phone" })).body.session.accessToken as string;
    const alice = await connectDevice(gateway.url, await login("gwkill_a"));
    const bob = await connectDevice(gateway.url, await login("gwkill_b"));
    const conversation = await alice.client.openDirect(BigInt(bob.client.welcome!.userId));
    await alice.client.send(conversation.conversationId, "before the crash");
    await bob.received(1);
    const port = new URL(gateway.url).port;
    await gateway.stop("SIGKILL");
    const pending = alice.client.send(conversation.conversationId, "sent during the outage");
    gateway = await startProcess("gateway/src/main.ts", gatewayEnv(port), "gateway listening");
    const ack = await pending;
    await bob.received(2);
    assert.deepEqual(
      bob.messages.map((m) => m.text),
      ["before the crash", "sent during the outage"],
    );
    const history = await bob.client.history(conversation.conversationId);
    assert.equal(history.messages.filter((m) => m.messageId === ack.messageId).length, 1);
    void a;
    await Promise.all([alice.client.close(), bob.client.close()]);
  });

  describe("presence across processes (grace period 1.5 s)", () => {
    const friends = async (prefix: string) => {
      for (const name of ["a", "b"]) await callApi(gateway.url, "SignUp", { username: `${prefix}_${name}`, password: "correct horse battery" });
      const login = async (name: string) =>
        (await callApi(gateway.url, "LogIn", { username: `${prefix}_${name}`, password: "correct horse battery", deviceName: "phone" })).body;
      const [a, b] = [await login("a"), await login("b")];
      await callApi(gateway.url, "AddFriend", { username: `${prefix}_b` }, a.session.accessToken);
      await callApi(gateway.url, "AddFriend", { username: `${prefix}_a` }, b.session.accessToken);
      return {
        a: { token: a.session.accessToken as string, userId: BigInt(a.profile.userId) },
        b: { token: b.session.accessToken as string, userId: BigInt(b.profile.userId) },
      };
    };
    const statusOf = async (viewer: Awaited<ReturnType<typeof connectDevice>>, userId: bigint) => (await viewer.client.getPresence([userId]))[0]!.status;
    /** Each check below is a presence call: one every 100 ms is plenty. */
    const polling = { timeoutMs: 10_000, intervalMs: 100 };

    it("recovers every status from the gateways' hellos when the presence process restarts", async () => {
      const { a, b } = await friends("pres_restart");
      const alice = await connectDevice(gateway.url, a.token);
      const bob = await connectDevice(gateway.url, b.token);
      await until(async () => (await statusOf(bob, a.userId)) === Status.ONLINE, "bob to see alice online", polling);
      const port = new URL(presence.url).port;
      await presence.stop("SIGKILL");
      presence = await startProcess("services/presence/src/main.ts", presenceEnv(port), "presence service listening");
      // Nobody reconnects: the gateway's stream reopens with a hello listing its sessions.
      await until(
        async () => (await statusOf(bob, a.userId).catch(() => Status.UNSPECIFIED)) === Status.ONLINE,
        "alice online again after the restart",
        polling,
      );
      await Promise.all([alice.client.close(), bob.client.close()]);
    });

    it("turns a killed gateway's users offline after the grace period", async () => {
      const { a, b } = await friends("pres_kill");
      const gateway2 = await startProcess("gateway/src/main.ts", gatewayEnv("0"), "gateway listening");
      try {
        const alice = await connectDevice(gateway2.url, a.token);
        const bob = await connectDevice(gateway.url, b.token);
        await until(async () => (await statusOf(bob, a.userId)) === Status.ONLINE, "bob to see alice online", polling);
        await gateway2.stop("SIGKILL");
        const killedAt = Date.now();
        await until(async () => (await statusOf(bob, a.userId)) === Status.OFFLINE, "alice offline after her gateway died", polling);
        assert.ok(Date.now() - killedAt >= 1_000, "not before the grace period");
        await Promise.all([alice.client.close(), bob.client.close()]);
      } finally {
        await gateway2.stop("SIGKILL");
      }
    });
  });

  it("answers UNAVAILABLE on the gateway while the account service is down, and recovers", async () => {
    const journeyUser = { username: "dist_alice", password: "correct horse battery", deviceName: "laptop" };
    const port = new URL(account.url).port;
    assert.equal(await account.stop("SIGTERM"), 0, "the account service stops cleanly");
    const res = await fetch(`${gateway.url}/parley.account.v1.AccountService/LogIn`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(journeyUser),
    });
    assert.equal(((await res.json()) as { code: string }).code, "unavailable");
    account = await startProcess("services/account/src/main.ts", accountEnv(port), "account service listening");
    const internal = clientAs(AccountInternalService, "gateway", account, "account");
    const again = await fetch(`${gateway.url}/parley.account.v1.AccountService/LogIn`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(journeyUser),
    });
    const body = (await again.json()) as { session: { accessToken: string } };
    assert.ok(body.session, "the gateway reconnects to the restarted account service");
    await internal.verifyToken({ accessToken: body.session.accessToken });
  });

  describe("the internal plane refuses what reaching a port used to allow", () => {
    /** Over TLS (the CA is public knowledge), but with no service token: what anyone on the network can do. */
    const anonymous = <S extends Parameters<typeof createClient>[0]>(service: S, url: string) =>
      createClient(service, createGrpcTransport({ baseUrl: url, nodeOptions: { ca: readFileSync(credentials.certs!.caFile) } }));
    const refusedWith = (code: Code, pattern: RegExp) => (err: unknown) => {
      const e = ConnectError.from(err);
      assert.equal(e.code, code, e.message);
      assert.match(e.rawMessage, pattern);
      return true;
    };
    const victim = { "parley-user-id": "1", "parley-device-id": "1" };

    it("chat: a send naming a user, without a service token, is UNAUTHENTICATED; from another role, PERMISSION_DENIED", async () => {
      const request = { conversationId: 1n, clientMsgId: "forged", text: "not me" };
      await assert.rejects(anonymous(ChatService, chat.url).send(request, { headers: victim }), refusedWith(Code.Unauthenticated, /service token is required/));
      await assert.rejects(
        clientAs(ChatService, "operator:test", chat, "chat").send(request, { headers: victim }),
        refusedWith(Code.PermissionDenied, /operator:test may not call parley.chat.v1.ChatService\/Send/),
      );
      await assert.rejects(
        clientAs(ChatService, "notify", chat, "chat").send(request, { headers: victim }),
        refusedWith(Code.PermissionDenied, /notify may not call/),
      );
    });

    it("gateway: DeliverService takes frames only from chat", async () => {
      const deliverUrl = /"deliver":"(https:\/\/[^"]+)"/.exec(gateway.output())?.[1];
      assert.ok(deliverUrl, "the gateway logs its DeliverService address");
      const frames = async function* () {
        yield { deliveries: [{ deliveryId: 1n, userId: 1n, frame: { body: { case: "error" as const, value: { code: "x", message: "forged" } } } }] };
      };
      const first = async (client: ReturnType<typeof createClient<typeof DeliverService>>) => {
        for await (const response of client.deliver(frames())) return response;
        return undefined;
      };
      await assert.rejects(first(anonymous(DeliverService, deliverUrl)), refusedWith(Code.Unauthenticated, /service token is required/));
      const asAccount = createClient(DeliverService, credentials.plane("account").transport(new URL(deliverUrl).host, "gateway"));
      await assert.rejects(first(asAccount), refusedWith(Code.PermissionDenied, /account may not call parley.gateway.v1.DeliverService\/Deliver/));
    });

    it("account: contact points and push tokens go to notify alone", async () => {
      const { profile } = (await callApi(gateway.url, "SignUp", { username: "plane_victim", password: "correct horse battery" })).body as {
        profile: { userId: string };
      };
      const request = { userId: BigInt(profile.userId) };
      await assert.rejects(
        anonymous(AccountInternalService, account.url).getNotificationTargets(request),
        refusedWith(Code.Unauthenticated, /service token is required/),
      );
      for (const principal of ["gateway", "chat", "presence", "operator:test"]) {
        await assert.rejects(
          clientAs(AccountInternalService, principal, account, "account").getNotificationTargets(request),
          refusedWith(Code.PermissionDenied, /may not call parley.account.v1.AccountInternalService\/GetNotificationTargets/),
        );
      }
      const targets = await clientAs(AccountInternalService, "notify", account, "account").getNotificationTargets(request);
      assert.equal(targets.pushTargets.length, 0);
    });

    it("serves only TLS on the internal ports: a cleartext client gets nowhere", async () => {
      const cleartext = createClient(IdGenService, createGrpcTransport({ baseUrl: `http://${new URL(idgen.url).host}` }));
      await assert.rejects(cleartext.nextIds({ count: 1 }));
      assert.match(idgen.url, /^https:/);
    });
  });

  it("stops every process cleanly on SIGTERM", async () => {
    for (const proc of [gateway, chat, presence, idgen, account]) {
      assert.equal(await proc.stop("SIGTERM"), 0, proc.output());
    }
  });
});
