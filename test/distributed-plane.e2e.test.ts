import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AccountInternalService } from "@parley/contracts/parley/account/v1/account";
import { ChatService } from "@parley/contracts/parley/chat/v1/chat";
import { DeliverService } from "@parley/contracts/parley/gateway/v1/deliver";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { until } from "@parley/testkit";
import { callApi } from "./support/http-api.js";
import { grpc, grpcJsClient, unary } from "./support/grpcjs.js";
import type { ServiceProcess } from "./support/process.js";
import { TlsMesh } from "./support/tls-mesh.js";

describe("distributed mode's internal plane: what callers with and without service tokens can reach", () => {
  let m: TlsMesh;
  before(async () => {
    m = await TlsMesh.start();
  });
  after(() => m?.close());

  describe("a plain @grpc/grpc-js client over TLS with a service token (what internal teams generate)", () => {
    const grpcAs = (service: Parameters<typeof grpcJsClient>[0], proc: ServiceProcess, principal: string, audience: string) =>
      grpcJsClient(service, proc.url, { ca: readFileSync(m.credentials.certs!.caFile), token: () => m.credentials.plane(principal).token(audience) });

    it("signs up, logs in and verifies the token on the account service", async () => {
      const publicApi = grpcAs("account", m.account, "gateway", "account");
      const internal = grpcAs("accountInternal", m.account, "gateway", "account");
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
      const publicApi = grpcAs("account", m.account, "gateway", "account");
      await assert.rejects(unary(publicApi, "SignUp", { username: "x", password: "correct horse battery" }), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
        assert.match(err.details, /username must be 3 to 32 characters/);
        return true;
      });
      await assert.rejects(unary(publicApi, "GetProfile", {}), (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED);
      publicApi.close();
      const withoutToken = grpcJsClient("accountInternal", m.account.url, { ca: readFileSync(m.credentials.certs!.caFile) });
      await assert.rejects(
        unary(withoutToken, "GetUsers", { userIds: ["1"] }),
        (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED && /service token is required/.test(err.details),
      );
      withoutToken.close();
    });

    it("gets ids and decodes them on the idgen service, each as the role allowed to", async () => {
      const asChat = grpcAs("idgen", m.idgen, "chat", "idgen");
      const asOperator = grpcAs("idgen", m.idgen, "operator:test", "idgen");
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
        [m.account, "parley.account.v1.AccountService"],
        [m.idgen, "parley.idgen.v1.IdGenService"],
        [m.gateway, "parley.account.v1.AccountService"],
      ] as const) {
        const health = grpcJsClient("health", proc.url, proc === m.gateway ? {} : { ca: readFileSync(m.credentials.certs!.caFile) });
        const name = proc === m.gateway ? "the gateway" : service;
        // The whole server ("") serves while its readiness checks pass. On a busy machine one can
        // time out (2 s) and stay failed until the next round (5 s later): wait for a ready
        // process, and say why it was not, from its log, if it never is.
        let last = "";
        await until(
          async () => {
            last = (await unary(health, "Check", { service: "" })).status;
            return last === "SERVING";
          },
          () => `${name} to serve as a whole (last: ${last}; ${readinessLines(proc) || "no readiness line in its log"})`,
        );
        assert.equal((await unary(health, "Check", { service })).status, "SERVING", `${name} serves ${service}`);
        await assert.rejects(unary(health, "Check", { service: "no.such.Service" }), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
        health.close();
      }
    });
  });

  describe("the internal plane refuses what reaching a port used to allow", () => {
    /** Over TLS (the CA is public knowledge), but with no service token: what anyone on the network can do. */
    const anonymous = <S extends Parameters<typeof createClient>[0]>(service: S, url: string) =>
      createClient(service, createGrpcTransport({ baseUrl: url, nodeOptions: { ca: readFileSync(m.credentials.certs!.caFile) } }));
    const refusedWith = (code: Code, pattern: RegExp) => (err: unknown) => {
      const e = ConnectError.from(err);
      assert.equal(e.code, code, e.message);
      assert.match(e.rawMessage, pattern);
      return true;
    };
    const victim = { "parley-user-id": "1", "parley-device-id": "1" };

    it("chat: a send naming a user, without a service token, is UNAUTHENTICATED; from another role, PERMISSION_DENIED", async () => {
      const request = { conversationId: 1n, clientMsgId: "forged", text: "not me" };
      await assert.rejects(
        anonymous(ChatService, m.chat.url).send(request, { headers: victim }),
        refusedWith(Code.Unauthenticated, /service token is required/),
      );
      await assert.rejects(
        m.clientAs(ChatService, "operator:test", m.chat, "chat").send(request, { headers: victim }),
        refusedWith(Code.PermissionDenied, /operator:test may not call parley.chat.v1.ChatService\/Send/),
      );
      await assert.rejects(
        m.clientAs(ChatService, "notify", m.chat, "chat").send(request, { headers: victim }),
        refusedWith(Code.PermissionDenied, /notify may not call/),
      );
    });

    it("gateway: DeliverService takes frames only from chat", async () => {
      const deliverUrl = /"deliver":"(https:\/\/[^"]+)"/.exec(m.gateway.output())?.[1];
      assert.ok(deliverUrl, "the gateway logs its DeliverService address");
      const frames = async function* () {
        yield { deliveries: [{ deliveryId: 1n, userId: 1n, frame: { body: { case: "error" as const, value: { code: "x", message: "forged" } } } }] };
      };
      const first = async (client: ReturnType<typeof createClient<typeof DeliverService>>) => {
        for await (const response of client.deliver(frames())) return response;
        return undefined;
      };
      await assert.rejects(first(anonymous(DeliverService, deliverUrl)), refusedWith(Code.Unauthenticated, /service token is required/));
      const asAccount = createClient(DeliverService, m.credentials.plane("account").transport(new URL(deliverUrl).host, "gateway"));
      await assert.rejects(first(asAccount), refusedWith(Code.PermissionDenied, /account may not call parley.gateway.v1.DeliverService\/Deliver/));
    });

    it("account: contact points and push tokens go to notify alone", async () => {
      const { profile } = (await callApi(m.gateway.url, "SignUp", { username: "plane_victim", password: "correct horse battery" })).body as {
        profile: { userId: string };
      };
      const request = { userId: BigInt(profile.userId) };
      await assert.rejects(
        anonymous(AccountInternalService, m.account.url).getNotificationTargets(request),
        refusedWith(Code.Unauthenticated, /service token is required/),
      );
      for (const principal of ["gateway", "chat", "presence", "operator:test"]) {
        await assert.rejects(
          m.clientAs(AccountInternalService, principal, m.account, "account").getNotificationTargets(request),
          refusedWith(Code.PermissionDenied, /may not call parley.account.v1.AccountInternalService\/GetNotificationTargets/),
        );
      }
      const targets = await m.clientAs(AccountInternalService, "notify", m.account, "account").getNotificationTargets(request);
      assert.equal(targets.pushTargets.length, 0);
    });

    it("serves only TLS on the internal ports: a cleartext client gets nowhere", async () => {
      const cleartext = createClient(IdGenService, createGrpcTransport({ baseUrl: `http://${new URL(m.idgen.url).host}` }));
      await assert.rejects(cleartext.nextIds({ count: 1 }));
      assert.match(m.idgen.url, /^https:/);
    });
  });
});

/** The readiness lines of a process's log, for a failure message. */
function readinessLines(proc: ServiceProcess): string {
  return proc
    .output()
    .split("\n")
    .filter((line) => line.includes("readiness check"))
    .join(" | ");
}
