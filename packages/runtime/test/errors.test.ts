import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { UpdateSettingsRequestSchema } from "@parley/contracts/parley/account/v1/account";
import { CommandSchema, CreateGroupRequestSchema, SendRequestSchema } from "@parley/contracts/parley/chat/v1/chat";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { NotifyService, SendRequestSchema as NotifySendRequestSchema } from "@parley/contracts/parley/notify/v1/notify";
import { ErrorTranslator } from "../src/errors.js";
import { firstFieldProblem } from "../src/field-rules.js";
import { createLogger } from "../src/logger.js";
import { DependencyUnavailable, dependencyFailure, isOutage, unavailable } from "../src/outage.js";
import { grpcTransport } from "../src/transport.js";

class Refused extends Error {}

const translator = () =>
  new ErrorTranslator(
    (err) => (err instanceof Refused ? new ConnectError("refused by the domain", Code.FailedPrecondition) : undefined),
    createLogger("test", "silent"),
  );

/** A real transport failure: a gRPC call to a port nothing listens on. */
async function refusedCall(): Promise<unknown> {
  const server = net.createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  await new Promise((resolve) => server.close(resolve));
  try {
    await createClient(IdGenService, grpcTransport(`http://127.0.0.1:${port}`)).nextIds({ count: 1 });
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

/**
 * A real session torn down: an HTTP/2 server that answers a call's stream
 * with GOAWAY and INTERNAL_ERROR, as a server does to a client that reset
 * too many streams in a burst (a storm of calls cancelled at their deadline).
 */
async function goneAwayCall(): Promise<unknown> {
  const server = http2.createServer();
  server.on("stream", (stream) => stream.session?.goaway(http2.constants.NGHTTP2_INTERNAL_ERROR));
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  try {
    await createClient(IdGenService, grpcTransport(`http://127.0.0.1:${port}`)).nextIds({ count: 1 });
  } catch (err) {
    return err;
  } finally {
    server.close();
  }
  throw new Error("expected the call to fail");
}

describe("error translation: what a caller is told", () => {
  it("answers an adapter's DependencyUnavailable UNAVAILABLE in its words, without the cause's text", async () => {
    const cause = await refusedCall();
    const status = translator().status(dependencyFailure("the id service", cause), "test/Call");
    assert.deepEqual([status.code, status.rawMessage], [Code.Unavailable, "the id service is unavailable; retry"]);
  });

  it("answers a downstream UNAVAILABLE or DEADLINE_EXCEEDED that was let through UNAVAILABLE in generic words", async () => {
    const leaked = await refusedCall();
    assert.match(ConnectError.from(leaked).rawMessage, /ECONNREFUSED 127\.0\.0\.1/, "the transport's own text names the address");
    for (const err of [leaked, new ConnectError("deadline", Code.DeadlineExceeded)]) {
      const status = translator().status(err, "test/Call");
      assert.deepEqual([status.code, status.rawMessage], [Code.Unavailable, "a service this call needs is unavailable; retry"]);
    }
  });

  it("answers INTERNAL and UNKNOWN statuses that were let through as a bare INTERNAL", () => {
    for (const err of [new ConnectError("stack trace here", Code.Internal), new ConnectError("boom at 10.0.0.7", Code.Unknown)]) {
      const status = translator().status(err, "test/Call");
      assert.deepEqual([status.code, status.rawMessage], [Code.Internal, "internal error"]);
    }
  });

  it("passes a caller's mistake phrased by the service behind unchanged", () => {
    for (const code of [Code.InvalidArgument, Code.NotFound, Code.Unauthenticated, Code.PermissionDenied, Code.ResourceExhausted]) {
      const err = new ConnectError("phrased for the client developer", code);
      assert.equal(translator().status(err, "test/Call"), err);
    }
  });

  it("maps domain errors with the service's mapper, and its named outages keep their words", () => {
    assert.deepEqual([translator().status(new Refused(), "test/Call").code], [Code.FailedPrecondition]);
    const named = new ErrorTranslator(() => unavailable("the message store", new Error("connect ECONNREFUSED 127.0.0.1:5432")), createLogger("test", "silent"));
    assert.equal(named.status(new Error("x"), "test/Call").rawMessage, "the message store is unavailable; retry");
  });

  it("answers a database outage no mapper named UNAVAILABLE, and anything else INTERNAL", () => {
    const lost = Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" });
    assert.equal(translator().status(lost, "test/Call").code, Code.Unavailable);
    assert.deepEqual([translator().status(new TypeError("x is undefined"), "test/Call").rawMessage], ["internal error"]);
  });
});

describe("isOutage", () => {
  it("recognises a refused gRPC call, network errnos (also as a cause or in an AggregateError) and SQL connection states", async () => {
    assert.equal(isOutage(await refusedCall()), true);
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    assert.equal(isOutage(reset), true);
    assert.equal(isOutage(new Error("query failed", { cause: reset })), true);
    assert.equal(isOutage(new AggregateError([reset], "connect failed")), true);
    for (const code of ["08006", "08001", "57P01", "57P02", "57P03", "53300", "53100"])
      assert.equal(isOutage(Object.assign(new Error(code), { code })), true, code);
    assert.equal(isOutage(new Error("timeout exceeded when trying to connect")), true);
    assert.equal(isOutage(new Error("Connection terminated unexpectedly")), true);
    assert.equal(isOutage(new DependencyUnavailable("the id service", { cause: reset })), true);
  });

  it("recognises a call whose HTTP/2 session the server tore down (GOAWAY with an error), which Connect reports as INTERNAL", async () => {
    const err = await goneAwayCall();
    assert.ok(err instanceof ConnectError && err.code === Code.Internal, String(err));
    assert.equal(isOutage(err), true);
  });

  it("does not count bad input, conflicts, quota refusals or bugs", () => {
    for (const code of ["23505", "22003", "22021", "42601", "40001"]) assert.equal(isOutage(Object.assign(new Error(code), { code })), false, code);
    assert.equal(isOutage(new ConnectError("slow down", Code.ResourceExhausted)), false);
    assert.equal(isOutage(new ConnectError("bad", Code.InvalidArgument)), false);
    assert.equal(isOutage(new ConnectError("a bug on the other side", Code.Internal)), false);
    assert.equal(isOutage(new TypeError("x is undefined")), false);
  });
});

describe("firstFieldProblem: the rules every request shares", () => {
  it("accepts the largest id SQL bigint holds and refuses the next one up to 2^64-1, naming the field", () => {
    assert.equal(firstFieldProblem(SendRequestSchema, create(SendRequestSchema, { conversationId: 2n ** 63n - 1n, text: "hi" })), undefined);
    for (const id of [2n ** 63n, 2n ** 64n - 1n]) {
      assert.deepEqual(firstFieldProblem(SendRequestSchema, create(SendRequestSchema, { conversationId: id })), {
        field: "conversation_id",
        rule: "must be at most 9223372036854775807 (2^63 - 1)",
      });
    }
  });

  it("refuses NUL in text, with the path through lists, nested messages, maps and oneofs", () => {
    const nul = "must not contain the NUL character (U+0000)";
    assert.deepEqual(firstFieldProblem(SendRequestSchema, create(SendRequestSchema, { clientMsgId: "a\u0000" })), { field: "client_msg_id", rule: nul });
    assert.equal(firstFieldProblem(CreateGroupRequestSchema, create(CreateGroupRequestSchema, { memberIds: [1n, 2n ** 63n] }))?.field, "member_ids[1]");
    const settings = create(UpdateSettingsRequestSchema, { settings: { email: "a\u0000@b.c" } });
    assert.equal(firstFieldProblem(UpdateSettingsRequestSchema, settings)?.field, "settings.email");
    const params = create(NotifySendRequestSchema, { params: { name: "a\u0000" } });
    assert.equal(firstFieldProblem(NotifyService.method.send.input, params)?.field, 'params["name"]');
    const command = create(CommandSchema, { op: { case: "send", value: { text: "a\u0000" } } });
    assert.equal(firstFieldProblem(CommandSchema, command)?.field, "send.text");
  });
});
