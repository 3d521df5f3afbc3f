import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { DeliveryState, Kind, NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { Status } from "@parley/contracts/parley/presence/v1/presence";
import { until } from "@parley/testkit";
import { runAccountJourney } from "./support/account-scenario.js";
import { chatBothWays, multiDevice, offlineCatchUp, retryAfterDrop, type ChatWorld } from "./support/chat-scenarios.js";
import { callApi } from "./support/http-api.js";
import { readyzSays } from "./support/probes.js";
import { connectDevice } from "./support/sdk.js";
import { startProcess } from "./support/process.js";
import { TlsMesh } from "./support/tls-mesh.js";

const BUF = new URL("../node_modules/.bin/buf", import.meta.url).pathname;

/** The internal plane's refusals and plain gRPC clients: test/distributed-plane.e2e.test.ts. */
describe("distributed mode: each service its own process over real gRPC with service tokens and TLS, accounts in Postgres", () => {
  let m: TlsMesh;
  before(async () => {
    m = await TlsMesh.start();
  });
  after(() => m?.close());

  it("serves the account journey through the gateway, forwarding over gRPC", async () => {
    await runAccountJourney(m.gateway.url, "dist");
  });

  it("hands out increasing Snowflake ids from the configured worker over gRPC", async () => {
    const client = m.clientAs(IdGenService, "chat", m.idgen, "idgen");
    const { ids } = await client.nextIds({ count: 100 });
    assert.equal(ids.length, 100);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!);
    const decoded = await client.decodeId({ id: ids[0]! });
    assert.equal(decoded.workerId, 7);
    await assert.rejects(client.nextIds({ count: 4097 }), (err: unknown) => ConnectError.from(err).code === Code.InvalidArgument);
  });

  describe("one-to-one chat through the SDK, across processes", () => {
    const signedUp = new Set<string>();
    const world: ChatWorld = {
      get gatewayUrl() {
        return m.gateway.url;
      },
      async login(username, deviceName) {
        if (!signedUp.has(username)) {
          signedUp.add(username);
          await callApi(m.gateway.url, "SignUp", { username, password: "correct horse battery" });
        }
        const res = await callApi(m.gateway.url, "LogIn", { username, password: "correct horse battery", deviceName });
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
      const token = await callApi(m.gateway.url, "SetPushToken", { platform: "PUSH_PLATFORM_FCM", token: "fcm-d-push-b" }, b.token);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      const alice = await connectDevice(m.gateway.url, a.token);
      try {
        const conversation = await alice.client.openDirect(b.userId);
        const ack = await alice.client.send(conversation.conversationId, "are you awake?");
        const ops = m.clientAs(NotifyService, "operator:test", m.notify, "notify");
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
        await until(() => /notification recorded/.test(m.notify.output()), "notify to log the notification");
      } finally {
        await alice.client.close();
      }
    });

    it("keeps every acked message when the chat process is killed right after acking", async () => {
      const a = await world.login("d_kill_a", "phone");
      const b = await world.login("d_kill_b", "phone");
      const alice = await connectDevice(m.gateway.url, a.token);
      const conversation = await alice.client.openDirect(b.userId);
      const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => alice.client.send(conversation.conversationId, `survives ${i}`)));
      await m.chat.stop("SIGKILL");
      await alice.client.close();
      m.chat = await startProcess("services/chat/src/main.ts", m.chatEnv(new URL(m.chat.url).port), "chat service listening");
      const bob = await connectDevice(m.gateway.url, b.token);
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
    const a = await callApi(m.gateway.url, "SignUp", { username: "gwkill_a", password: "correct horse battery" });
    await callApi(m.gateway.url, "SignUp", { username: "gwkill_b", password: "correct horse battery" });
    const login = async (username: string) =>
      (await callApi(m.gateway.url, "LogIn", { username, password: "correct horse battery", deviceName: "phone" })).body.session.accessToken as string;
    const alice = await connectDevice(m.gateway.url, await login("gwkill_a"));
    const bob = await connectDevice(m.gateway.url, await login("gwkill_b"));
    const conversation = await alice.client.openDirect(BigInt(bob.client.welcome!.userId));
    await alice.client.send(conversation.conversationId, "before the crash");
    await bob.received(1);
    const port = new URL(m.gateway.url).port;
    await m.gateway.stop("SIGKILL");
    const pending = alice.client.send(conversation.conversationId, "sent during the outage");
    m.gateway = await startProcess("gateway/src/main.ts", m.gatewayEnv(port), "gateway listening");
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
      for (const name of ["a", "b"]) await callApi(m.gateway.url, "SignUp", { username: `${prefix}_${name}`, password: "correct horse battery" });
      const login = async (name: string) =>
        (await callApi(m.gateway.url, "LogIn", { username: `${prefix}_${name}`, password: "correct horse battery", deviceName: "phone" })).body;
      const [a, b] = [await login("a"), await login("b")];
      await callApi(m.gateway.url, "AddFriend", { username: `${prefix}_b` }, a.session.accessToken);
      await callApi(m.gateway.url, "AddFriend", { username: `${prefix}_a` }, b.session.accessToken);
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
      const alice = await connectDevice(m.gateway.url, a.token);
      const bob = await connectDevice(m.gateway.url, b.token);
      await until(async () => (await statusOf(bob, a.userId)) === Status.ONLINE, "bob to see alice online", polling);
      const port = new URL(m.presence.url).port;
      await m.presence.stop("SIGKILL");
      m.presence = await startProcess("services/presence/src/main.ts", m.presenceEnv(port), "presence service listening");
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
      const gateway2 = await startProcess("gateway/src/main.ts", m.gatewayEnv("0"), "gateway listening");
      try {
        const alice = await connectDevice(gateway2.url, a.token);
        const bob = await connectDevice(m.gateway.url, b.token);
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
    const port = new URL(m.account.url).port;
    await readyzSays(m.gateway.url, 200, "ok");
    assert.equal(await m.account.stop("SIGTERM"), 0, "the account service stops cleanly");
    const res = await fetch(`${m.gateway.url}/parley.account.v1.AccountService/LogIn`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(journeyUser),
    });
    assert.equal(((await res.json()) as { code: string }).code, "unavailable");
    // New connections would all fail: the gateway says it is not ready until account is back.
    await readyzSays(m.gateway.url, 503, "not ready: account unreachable");
    m.account = await startProcess("services/account/src/main.ts", m.accountEnv(port), "account service listening");
    await readyzSays(m.gateway.url, 200, "ok");
    const internal = m.clientAs(AccountInternalService, "gateway", m.account, "account");
    const again = await fetch(`${m.gateway.url}/parley.account.v1.AccountService/LogIn`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(journeyUser),
    });
    const body = (await again.json()) as { session: { accessToken: string } };
    assert.ok(body.session, "the gateway reconnects to the restarted account service");
    await internal.verifyToken({ accessToken: body.session.accessToken });
  });

  it("lets an operator's buf curl list an internal server's methods through reflection, over TLS", async () => {
    const token = await m.credentials.plane("operator:test").token("chat");
    const listed = await promisify(execFile)(BUF, [
      "curl",
      "--protocol",
      "grpc",
      "--cacert",
      m.credentials.certs!.caFile,
      "-H",
      `parley-service-token: ${token}`,
      "--reflect-header",
      "*",
      "--list-methods",
      m.chat.url,
    ]);
    assert.match(listed.stdout, /^parley\.chat\.v1\.ChatService\/Send$/m);
  });

  it("stops every process cleanly on SIGTERM", async () => {
    for (const proc of [m.gateway, m.chat, m.presence, m.idgen, m.account]) {
      assert.equal(await proc.stop("SIGTERM"), 0, proc.output());
    }
  });
});
